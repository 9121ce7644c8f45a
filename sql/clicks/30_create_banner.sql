-- create_banner(name): a new banner. TLIA1 NAME_INVALID (1-200 characters).
create function clicks.create_banner(p_name text)
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
begin
    if p_name is null or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    return query
        insert into clicks.banners as b (name)
        values (p_name)
        returning b.id, b.name, b.created_at;
end
$fn$;

grant execute on function clicks.create_banner(text) to tally_app;
