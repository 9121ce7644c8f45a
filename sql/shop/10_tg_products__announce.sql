-- tg_products__announce: announce the products whose cached rows (GetProduct) changed or went
-- (tally._announce_cache), once per statement, whoever changed them.
create function shop.tg_products__announce()
returns trigger
language plpgsql
set search_path = shop, pg_temp
as $fn$
begin
    perform tally._announce_cache('shop.product', array(select id from changed_rows));
    return null;
end
$fn$;

create trigger products_announce_update
    after update on shop.products
    referencing new table as changed_rows
    for each statement execute function shop.tg_products__announce();

create trigger products_announce_delete
    after delete on shop.products
    referencing old table as changed_rows
    for each statement execute function shop.tg_products__announce();
