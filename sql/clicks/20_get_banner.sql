-- get_banner(banner_id): the banner. TLNF1 BANNER_NOT_FOUND, TLIA1 BANNER_ID_INVALID.
create function clicks.get_banner(p_banner_id bigint)
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = clicks, pg_temp
as $fn$
begin
    if p_banner_id is null or p_banner_id < 1 then
        perform tally.raise_error('TLIA1', 'BANNER_ID_INVALID', 'banner_id must be a positive id', 'banner_id');
    end if;
    return query
        select b.id, b.name, b.created_at from clicks.banners b where b.id = p_banner_id;
    if not found then
        perform tally.raise_error('TLNF1', 'BANNER_NOT_FOUND',
                                  format('banner %s not found', p_banner_id), 'banner_id');
    end if;
end
$fn$;

grant execute on function clicks.get_banner(bigint) to tally_app;
