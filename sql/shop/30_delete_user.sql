-- delete_user(user_id): deletes the user and their addresses; refused while the user has
-- orders (the foreign key orders_user_fk decides, so a concurrent order cannot slip by).
-- TLNF1 USER_NOT_FOUND, TLFP1 USER_HAS_ORDERS, TLIA1 USER_ID_INVALID.
create function shop.delete_user(p_user_id bigint,
                                 p_idempotency_key text default null,
                                 p_idempotency_scope text default '')
returns void
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
    if p_idempotency_key is not null then
        perform coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.delete_user', jsonb_build_array(p_user_id)),
                         tally._idempotent_record((select 'true'::jsonb from shop.delete_user(p_user_id) f)));
        return;
    end if;
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

grant execute on function shop.delete_user(bigint, text, text) to tally_app;
