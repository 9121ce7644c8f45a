-- delete_user(user_id): deletes the user and their addresses; refused while the user has
-- orders (the foreign key orders_user_fk decides, so a concurrent order cannot slip by:
-- shop._delete_unless_ordered).
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
    perform shop._delete_unless_ordered('user', p_user_id, p_idempotency_key, p_idempotency_scope);
end
$fn$;

grant execute on function shop.delete_user(bigint, text, text) to tally_app;
