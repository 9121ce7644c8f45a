-- get_banner(banner_id): the banner. TLNF1 BANNER_NOT_FOUND, TLIA1 BANNER_ID_INVALID.
create function clicks.get_banner(p_banner_id bigint)
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = clicks, pg_temp
as $fn$
begin
    perform tally.check_id(p_banner_id, 'banner_id');
    return query
        select b.id, b.name, b.created_at from clicks.banners b where b.id = p_banner_id;
    if not found then
        perform tally.raise_not_found('banner', p_banner_id);
    end if;
end
$fn$;

grant execute on function clicks.get_banner(bigint) to tally_app;
