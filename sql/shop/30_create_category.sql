-- create_category(name): a new category; names are unique regardless of case.
-- TLIA1 NAME_INVALID (1-100 characters), TLAE1 CATEGORY_NAME_TAKEN.
create function shop.create_category(p_name text)
returns table (id bigint, name text)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
    if p_name is null or char_length(p_name) not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 100 characters', 'name');
    end if;
    return query insert into shop.categories as c (name) values (p_name) returning c.id, c.name;
exception when unique_violation then
    perform tally.raise_error('TLAE1', 'CATEGORY_NAME_TAKEN',
                              format('category %s already exists', p_name), 'name');
end
$fn$;

grant execute on function shop.create_category(text) to tally_app;
