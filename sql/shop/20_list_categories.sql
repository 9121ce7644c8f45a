-- list_categories(): every category, by name.
create function shop.list_categories()
returns table (id bigint, name text)
language sql
stable
security definer
set search_path = shop, pg_temp
as $fn$
    select c.id, c.name from shop.categories c order by lower(c.name), c.id;
$fn$;

grant execute on function shop.list_categories() to tally_app;
