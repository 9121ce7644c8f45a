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
    if p_user_id is null or p_user_id < 1 then
        perform tally.raise_error('TLIA1', 'USER_ID_INVALID', 'user_id must be a positive id', 'user_id');
    end if;
    delete from shop.users u where u.id = p_user_id;
    if not found then
        perform tally.raise_error('TLNF1', 'USER_NOT_FOUND', format('user %s not found', p_user_id), 'user_id');
    end if;
exception when foreign_key_violation then
    perform tally.raise_error('TLFP1', 'USER_HAS_ORDERS',
        format('user %s has orders and cannot be deleted', p_user_id), 'user_id');
end
$fn$;

grant execute on function shop.delete_user(bigint) to tally_app;
