-- create_order(user_id, delivery_address_id, product_ids[], quantities[]): places an order
-- in one round trip. Repeated products are merged into one line. Either every line is
-- covered by stock and the whole order is placed (stock decremented, prices copied into
-- price_at_order, total computed), or nothing changes:
--   TLIA1 USER_ID_INVALID, ADDRESS_ID_INVALID, ITEMS_EMPTY (none, or arrays of different
--         lengths, or more than 100 lines), PRODUCT_ID_INVALID, QUANTITY_INVALID (< 1);
--   TLNF1 USER_NOT_FOUND, ADDRESS_NOT_FOUND (missing, or not this user's), PRODUCT_NOT_FOUND;
--   TLFP1 INSUFFICIENT_STOCK - HINT holds {"precondition_failure": [{type, subject,
--         description, product_id, available, requested}, ...]}, one per short product.
-- Stock never goes negative: the products are locked in id order (concurrent orders
-- queue, never deadlock), then one conditional UPDATE takes what each line needs; the
-- CHECK products_stock_nonnegative backs it.
create function shop.create_order(p_user_id bigint, p_delivery_address_id bigint,
                                  p_product_ids bigint[], p_quantities integer[])
returns table (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status,
               total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
declare
    v_ids bigint[];
    v_qty bigint[];
    v_missing bigint[];
    v_short jsonb;
    v_found bigint[];
    v_taken_ids bigint[];
    v_prices numeric[];
    v_categories bigint[];
    v_order record;
begin
    if p_user_id is null or p_user_id < 1 then
        perform tally.raise_error('TLIA1', 'USER_ID_INVALID', 'user_id must be a positive id', 'user_id');
    end if;
    if p_delivery_address_id is null or p_delivery_address_id < 1 then
        perform tally.raise_error('TLIA1', 'ADDRESS_ID_INVALID',
                                  'delivery_address_id must be a positive id', 'delivery_address_id');
    end if;
    if coalesce(cardinality(p_product_ids), 0) = 0
       or cardinality(p_product_ids) is distinct from cardinality(p_quantities)
       or cardinality(p_product_ids) > 100 then
        perform tally.raise_error('TLIA1', 'ITEMS_EMPTY',
                                  'an order needs 1 to 100 items, each with a product and a quantity', 'items');
    end if;
    if exists (select 1 from unnest(p_product_ids) x where x is null or x < 1) then
        perform tally.raise_error('TLIA1', 'PRODUCT_ID_INVALID', 'product_id must be a positive id', 'items.product_id');
    end if;
    if exists (select 1 from unnest(p_quantities) q where q is null or q < 1) then
        perform tally.raise_error('TLIA1', 'QUANTITY_INVALID', 'quantity must be 1 or more', 'items.quantity');
    end if;

    select array_agg(m.product_id order by m.product_id), array_agg(m.q order by m.product_id)
      into v_ids, v_qty
      from (select r.product_id, sum(r.quantity) as q
              from unnest(p_product_ids, p_quantities) r (product_id, quantity)
             group by r.product_id) m;
    if exists (select 1 from unnest(v_qty) q where q > 2147483647) then
        perform tally.raise_error('TLIA1', 'QUANTITY_INVALID', 'quantity is too large', 'items.quantity');
    end if;

    -- The address is the user's (its foreign key guarantees the user exists): one lookup
    -- on the happy path, a second one only to tell which of the two is missing.
    if not exists (select 1 from shop.addresses a
                    where a.id = p_delivery_address_id and a.user_id = p_user_id) then
        if not exists (select 1 from shop.users u where u.id = p_user_id) then
            perform tally.raise_error('TLNF1', 'USER_NOT_FOUND', format('user %s not found', p_user_id), 'user_id');
        end if;
        perform tally.raise_error('TLNF1', 'ADDRESS_NOT_FOUND',
            format('address %s of user %s not found', p_delivery_address_id, p_user_id),
            'delivery_address_id');
    end if;

    -- Lock the products in id order: concurrent orders over the same products queue in
    -- one order and cannot deadlock. What is not locked does not exist.
    select array_agg(l.id) into v_found
      from (select p.id from shop.products p where p.id = any (v_ids) order by p.id
               for no key update) l;
    if coalesce(cardinality(v_found), 0) < cardinality(v_ids) then
        select array_agg(x order by x) into v_missing
          from unnest(v_ids) x where x <> all (coalesce(v_found, '{}'));
        perform tally.raise_error('TLNF1', 'PRODUCT_NOT_FOUND',
            format('product %s not found', array_to_string(v_missing, ', ')), 'items.product_id');
    end if;

    -- One conditional UPDATE takes what every line needs, and hands back what the lines
    -- copy (price, category).
    with taken as (
        update shop.products p
           set stock_quantity = p.stock_quantity - m.q
          from unnest(v_ids, v_qty) m (product_id, q)
         where p.id = m.product_id and p.stock_quantity >= m.q
        returning p.id, p.price, p.category_id)
    select array_agg(t.id order by t.id), array_agg(t.price order by t.id),
           array_agg(t.category_id order by t.id)
      into v_taken_ids, v_prices, v_categories
      from taken t;

    if coalesce(cardinality(v_taken_ids), 0) < cardinality(v_ids) then
        -- Not every line is covered: report each shortfall; raising undoes the UPDATE.
        select jsonb_agg(jsonb_build_object(
                   'type', 'INSUFFICIENT_STOCK',
                   'subject', 'product:' || p.id,
                   'description', format('Insufficient stock for product %s. Available: %s, Requested: %s',
                                         p.id, p.stock_quantity, m.q),
                   'product_id', p.id, 'available', p.stock_quantity, 'requested', m.q)
                 order by p.id)
          into v_short
          from unnest(v_ids, v_qty) m (product_id, q)
          join shop.products p on p.id = m.product_id
         where p.id <> all (coalesce(v_taken_ids, '{}'));
        raise exception using errcode = 'TLFP1', detail = 'INSUFFICIENT_STOCK',
            message = 'insufficient stock: ' || (select string_agg(e->>'description', '; ')
                                                  from jsonb_array_elements(v_short) e),
            hint = jsonb_build_object('precondition_failure', v_short)::text;
    end if;

    -- v_taken_ids = v_ids here (both sorted), so the arrays line up with v_qty.
    insert into shop.orders as o (user_id, delivery_address_id, total_price)
    values (p_user_id, p_delivery_address_id,
            (select sum(x.price * x.q) from unnest(v_prices, v_qty) x (price, q)))
    returning o.id, o.status, o.total_price, o.created_at, o.updated_at into v_order;

    insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
    select v_order.id, x.product_id, x.q, x.price, x.category_id,
           (v_order.created_at at time zone 'UTC')::date
      from unnest(v_ids, v_qty, v_prices, v_categories) x (product_id, q, price, category_id);

    return query
        select v_order.id, p_user_id, p_delivery_address_id, v_order.status, v_order.total_price,
               v_order.created_at, v_order.updated_at,
               (select jsonb_agg(jsonb_build_object('product_id', x.product_id, 'quantity', x.q,
                                                    'price_at_order', x.price::text)
                                 order by x.product_id)
                  from unnest(v_ids, v_qty, v_prices) x (product_id, q, price));
end
$fn$;

grant execute on function shop.create_order(bigint, bigint, bigint[], integer[]) to tally_app;
