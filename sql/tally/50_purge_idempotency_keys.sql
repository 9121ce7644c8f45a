-- purge_idempotency_keys(at, window): forget the idempotency keys recorded more than
-- `window` (24 hours unless given) before `at`; returns how many. The job
-- tally.purge_idempotency_keys runs it every 10 minutes with its scheduled time. A retry
-- after its key was purged is done again as a new call.
create function tally.purge_idempotency_keys(p_at timestamptz,
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
    return v_count;
end
$fn$;

grant execute on function tally.purge_idempotency_keys(timestamptz, interval) to tally_jobs;
