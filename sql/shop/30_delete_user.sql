-- delete_user(user_id): deletes the user and their addresses; refused while the user has
-- orders (the foreign key orders_user_fk decides, so a concurrent order cannot slip by).
-- TLNF1 USER_NOT_FOUND, TLFP1 USER_HAS_ORDERS, TLIA1 USER_ID_INVALID.
create function shop.delete_user(p_user_id bigint)
returns void
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform tally.check_id(p_user_id, 'user_id');
    delete from shop.users u where u.id = p_user_id;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
exception when foreign_key_violation then
    perform tally.raise_error('TLFP1', 'USER_HAS_ORDERS',
        format('user %s has orders and cannot be deleted', p_user_id), 'user_id');
end
$fn$;

grant execute on function shop.delete_user(bigint) to tally_app;
