-- reserve_seat(event_id, user_id): one seat for one user, or an error (see
-- reserve_seats for the rules and reasons). What psql users call:
--   select * from booking.reserve_seat(1, 'user123');
create function booking.reserve_seat(p_event_id bigint, p_user_id text,
                                     p_idempotency_key text default null,
                                     p_idempotency_scope text default '')
returns table (id bigint, event_id bigint, user_id text, created_at timestamptz)
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    r record;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'booking.reserve_seat', jsonb_build_array(p_event_id, p_user_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from booking.reserve_seat(p_event_id, p_user_id) f))))
            as x (id bigint, event_id bigint, user_id text, created_at timestamptz);
        return;
    end if;
    select * into r from booking.reserve_seats(array[p_event_id], array[p_user_id]);
    if r.error_sqlstate is not null then
        perform tally.raise_error(r.error_sqlstate, r.error_reason, r.error_message,
                                  r.error_field);
    end if;
    return query select r.booking_id, r.event_id, r.user_id, r.created_at;
end
$fn$;

grant execute on function booking.reserve_seat(bigint, text, text, text) to tally_app;
