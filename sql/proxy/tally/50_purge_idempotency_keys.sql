-- purge_idempotency_keys(at, window), on the proxy and every partition: keyed writes of
-- clicks and booking record their keys on the partition that did the write, the other
-- domains' on the proxy. The job tally.purge_idempotency_keys forgets both; returns how
-- many keys, in all.
create or replace function tally._purge_idempotency_keys_on_all(p_at timestamptz,
                                                                p_window interval)
returns setof bigint
language plproxy
as $fn$
    cluster 'tally_jobs';
    run on all;
    select tally.purge_idempotency_keys(p_at, p_window);
$fn$;

create or replace function tally.purge_idempotency_keys(p_at timestamptz,
                                                        p_window interval default interval '24 hours')
returns bigint
language plpgsql
security definer
set search_path = tally, pg_temp
as $fn$
declare
    v_count bigint;
begin
    if p_at is null or p_window is null or p_window < interval '0' then
        perform tally.raise_error('TLIA1', 'PURGE_ARGUMENT_INVALID',
                                  'at is required and window must not be negative');
    end if;
    delete from tally.idempotency_keys where created_at < p_at - p_window;
    get diagnostics v_count = row_count;
    return v_count + (select coalesce(sum(n), 0)
                        from tally._purge_idempotency_keys_on_all(p_at, p_window) n);
end
$fn$;

grant execute on function tally.purge_idempotency_keys(timestamptz, interval) to tally_jobs;
