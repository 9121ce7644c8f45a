-- list_events(after_id, page_size): events with id > after_id, by id, at most page_size
-- (1-100). Keyset paging: pass the last id of a page to get the next one.
-- TLIA1 PAGE_SIZE_INVALID.
create function booking.list_events(p_after_id bigint default 0, p_page_size integer default 50)
returns table (id bigint, name text, total_seats integer, available_seats integer)
language plpgsql
stable
security definer
set search_path = booking, pg_temp
as $fn$
begin
    perform tally._check_page_size(p_page_size);
    return query
        select e.id, e.name, e.total_seats, e.total_seats - e.booked_seats
          from booking.events e
         where e.id > coalesce(p_after_id, 0)
         order by e.id
         limit p_page_size;
end
$fn$;

grant execute on function booking.list_events(bigint, integer) to tally_app;
