-- _delete_unless_ordered(kind, id, idempotency_key, idempotency_scope): what delete_product
-- and delete_user do, kind 'product' or 'user': the row is deleted unless orders
-- reference it. The foreign key decides (order_items_product_fk for a product's order
-- lines, orders_user_fk for a user's orders), so an order placed concurrently cannot slip
-- by; a user's addresses go with the user (addresses_user_fk cascades).
-- TLIA1 <KIND>_ID_INVALID, TLNF1 <KIND>_NOT_FOUND, TLFP1 <KIND>_HAS_ORDERS.
-- With a key, the call is done once as shop.delete_<kind>(id) (its request names that
-- function), and a repeat answers as the first call did, without doing it.
create function shop._delete_unless_ordered(p_kind text, p_id bigint,
                                            p_idempotency_key text, p_idempotency_scope text)
returns void
language plpgsql
as $fn$
begin
    if p_idempotency_key is not null then
        perform coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.delete_' || p_kind, jsonb_build_array(p_id)),
                         tally._idempotent_record((select 'true'::jsonb from shop._delete_unless_ordered(p_kind, p_id, null, null) f)));
        return;
    end if;
    perform tally.check_id(p_id, p_kind || '_id');
    if p_kind = 'product' then
        delete from shop.products p where p.id = p_id;
    else
        delete from shop.users u where u.id = p_id;
    end if;
    if not found then
        perform tally.raise_not_found(p_kind, p_id);
    end if;
exception when foreign_key_violation then
    perform tally.raise_error('TLFP1', upper(p_kind) || '_HAS_ORDERS',
        case p_kind
            when 'product' then format('product %s is in orders and cannot be deleted', p_id)
            else format('user %s has orders and cannot be deleted', p_id)
        end,
        p_kind || '_id');
end
$fn$;
