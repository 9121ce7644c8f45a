-- create_event(name, total_seats): a new event with every seat free.
-- TLIA1 NAME_INVALID (1-200 characters), TLIA1 TOTAL_SEATS_INVALID (>= 0).
create function booking.create_event(p_name text, p_total_seats integer,
                                     p_idempotency_key text default null,
                                     p_idempotency_scope text default '')
returns table (id bigint, name text, total_seats integer, available_seats integer)
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'booking.create_event', jsonb_build_array(p_name, p_total_seats)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from booking.create_event(p_name, p_total_seats) f))))
            as x (id bigint, name text, total_seats integer, available_seats integer);
        return;
    end if;
    if p_name is null or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    if p_total_seats is null or p_total_seats < 0 then
        perform tally.raise_error('TLIA1', 'TOTAL_SEATS_INVALID', 'total_seats must be zero or more', 'total_seats');
    end if;
    return query
        insert into booking.events as e (name, total_seats)
        values (p_name, p_total_seats)
        returning e.id, e.name, e.total_seats, e.total_seats - e.booked_seats;
end
$fn$;

grant execute on function booking.create_event(text, integer, text, text) to tally_app;
