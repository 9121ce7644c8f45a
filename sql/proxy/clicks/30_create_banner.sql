-- create_banner(name), routed: a keyed call on the partition its key hashes to (its retry
-- finds the key there), an unkeyed one on any partition; the partition's sequence gives
-- the banner an id that names that partition.
create or replace function clicks._create_banner_on(
        p_partition integer,
        p_name text,
        p_idempotency_key text,
        p_idempotency_scope text)
returns table (id bigint, name text, created_at timestamptz)
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select * from clicks.create_banner(p_name, p_idempotency_key, p_idempotency_scope);
$fn$;

create or replace function clicks.create_banner(
        p_name text,
        p_idempotency_key text default null,
        p_idempotency_scope text default '')
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    if p_idempotency_key is not null then
        -- The key's claim on the proxy too: a key reused with another request is refused
        -- here whichever partition the other request went to (see tally._claim_keys);
        -- it is taken back with the call if the partition fails.
        perform tally._claim_key(p_idempotency_scope, p_idempotency_key,
            'clicks.create_banner', jsonb_build_array(p_name));
    end if;
    return query select * from clicks._create_banner_on(tally._partition_of_key(p_idempotency_scope, p_idempotency_key), p_name, p_idempotency_key, p_idempotency_scope);
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function clicks.create_banner(text, text, text) to tally_app;
