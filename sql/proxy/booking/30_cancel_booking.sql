-- cancel_booking(booking_id), routed: on the partition that owns the booking, with its key.
create or replace function booking._cancel_booking_on(
        p_partition integer,
        p_booking_id bigint,
        p_idempotency_key text,
        p_idempotency_scope text)
returns bigint
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select booking.cancel_booking(p_booking_id, p_idempotency_key, p_idempotency_scope);
$fn$;

create or replace function booking.cancel_booking(
        p_booking_id bigint,
        p_idempotency_key text default null,
        p_idempotency_scope text default '')
returns bigint
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    if p_idempotency_key is not null then
        -- The key's claim on the proxy too: a key reused with another request is refused
        -- here whichever partition the other request went to (see tally._claim_keys);
        -- it is taken back with the call if the partition fails.
        perform tally._claim_key(p_idempotency_scope, p_idempotency_key,
            'booking.cancel_booking', jsonb_build_array(p_booking_id));
    end if;
    return booking._cancel_booking_on(tally._partition_of(p_booking_id), p_booking_id, p_idempotency_key, p_idempotency_scope);
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function booking.cancel_booking(bigint, text, text) to tally_app;
