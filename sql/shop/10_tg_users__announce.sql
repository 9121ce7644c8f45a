-- tg_users__announce: announce the users whose cached rows (GetUser) changed or went
-- (tally._announce_cache), once per statement, whoever changed them.
create function shop.tg_users__announce()
returns trigger
language plpgsql
set search_path = shop, pg_temp
as $fn$
begin
    perform tally._announce_cache('shop.user', array(select id from changed_rows));
    return null;
end
$fn$;

create trigger users_announce_update
    after update on shop.users
    referencing new table as changed_rows
    for each statement execute function shop.tg_users__announce();

create trigger users_announce_delete
    after delete on shop.users
    referencing old table as changed_rows
    for each statement execute function shop.tg_users__announce();
