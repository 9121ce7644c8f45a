-- list_banners(after_id, page_size), merged: every partition's first page_size banners
-- after after_id (RUN ON ALL, in parallel), then the first page_size of those by id. Ids
-- are unique over all partitions, so the pages are the single database's, in id order.
create or replace function clicks._list_banners_on_all(p_after_id bigint, p_page_size integer)
returns table (id bigint, name text, created_at timestamptz)
language plproxy
as $fn$
    cluster 'tally';
    run on all;
    select * from clicks.list_banners(p_after_id, p_page_size);
$fn$;

create or replace function clicks.list_banners(p_after_id bigint default 0,
                                               p_page_size integer default 50)
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    return query
        select b.id, b.name, b.created_at
          from clicks._list_banners_on_all(p_after_id, p_page_size) b
         order by b.id
         limit p_page_size;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function clicks.list_banners(bigint, integer) to tally_app;
