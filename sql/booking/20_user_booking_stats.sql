-- user_booking_stats(user_id): how many seats the user holds, over all events (0 for a
-- user who never booked). TLIA1 USER_ID_INVALID.
create function booking.user_booking_stats(p_user_id text)
returns table (user_id text, bookings_count bigint)
language plpgsql
stable
security definer
set search_path = booking, pg_temp
as $fn$
begin
    if p_user_id is null or char_length(p_user_id) not between 1 and 255 then
        perform tally.raise_error('TLIA1', 'USER_ID_INVALID',
                                  'user_id must be 1 to 255 characters', 'user_id');
    end if;
    return query
        select p_user_id, count(*)
          from booking.bookings b
         where b.user_id = p_user_id;
end
$fn$;

grant execute on function booking.user_booking_stats(text) to tally_app;
