-- The rows of shop that servers cache announce their changes at commit, whoever commits
-- (tally.tg_cached_rows__announce).

-- shop.products: GetProduct (orders take stock).
create trigger products_announce_update
    after update on shop.products
    referencing new table as changed_rows
    for each statement execute function tally.tg_cached_rows__announce('shop.product');
create trigger products_announce_delete
    after delete on shop.products
    referencing old table as changed_rows
    for each statement execute function tally.tg_cached_rows__announce('shop.product');

-- shop.users: GetUser.
create trigger users_announce_update
    after update on shop.users
    referencing new table as changed_rows
    for each statement execute function tally.tg_cached_rows__announce('shop.user');
create trigger users_announce_delete
    after delete on shop.users
    referencing old table as changed_rows
    for each statement execute function tally.tg_cached_rows__announce('shop.user');
