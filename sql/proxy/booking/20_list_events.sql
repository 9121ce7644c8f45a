-- list_events(after_id, page_size), merged: every partition's first page_size events after
-- after_id (RUN ON ALL, in parallel), then the first page_size of those by id. Ids are
-- unique over all partitions, so the pages are the single database's, in id order.
create or replace function booking._list_events_on_all(p_after_id bigint, p_page_size integer)
returns table (id bigint, name text, total_seats integer, available_seats integer)
language plproxy
as $fn$
    cluster 'tally';
    run on all;
    select * from booking.list_events(p_after_id, p_page_size);
$fn$;

create or replace function booking.list_events(p_after_id bigint default 0,
                                               p_page_size integer default 50)
returns table (id bigint, name text, total_seats integer, available_seats integer)
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    return query
        select e.id, e.name, e.total_seats, e.available_seats
          from booking._list_events_on_all(p_after_id, p_page_size) e
         order by e.id
         limit p_page_size;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function booking.list_events(bigint, integer) to tally_app;
