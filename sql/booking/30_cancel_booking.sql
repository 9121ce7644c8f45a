-- cancel_booking(booking_id): delete the booking; its seat is free again (the trigger
-- gives it back to the event). Returns the event's id.
-- TLNF1 BOOKING_NOT_FOUND, TLIA1 BOOKING_ID_INVALID.
create function booking.cancel_booking(p_booking_id bigint,
                                       p_idempotency_key text default null,
                                       p_idempotency_scope text default '')
returns bigint
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_event_id bigint;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'booking.cancel_booking', jsonb_build_array(p_booking_id)),
                         tally._idempotent_record(to_jsonb(booking.cancel_booking(p_booking_id)))) #>> '{}')::bigint;
    end if;
    perform tally.check_id(p_booking_id, 'booking_id');
    delete from booking.bookings b where b.id = p_booking_id returning b.event_id into v_event_id;
    if v_event_id is null then
        perform tally.raise_not_found('booking', p_booking_id);
    end if;
    return v_event_id;
end
$fn$;

grant execute on function booking.cancel_booking(bigint, text, text) to tally_app;
