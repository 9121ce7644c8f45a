-- list_banners(after_id, page_size): banners with id > after_id, by id, at most page_size
-- (1-100). Keyset paging: pass the last id of a page to get the next one.
-- TLIA1 PAGE_SIZE_INVALID.
create function clicks.list_banners(p_after_id bigint default 0, p_page_size integer default 50)
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = clicks, pg_temp
as $fn$
begin
    perform tally._check_page_size(p_page_size);
    return query
        select b.id, b.name, b.created_at
          from clicks.banners b
         where b.id > coalesce(p_after_id, 0)
         order by b.id
         limit p_page_size;
end
$fn$;

grant execute on function clicks.list_banners(bigint, integer) to tally_app;
