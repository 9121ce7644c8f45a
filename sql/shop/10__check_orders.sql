-- _check_orders(user_ids[], delivery_address_ids[], line_orders[], product_ids[], quantities[]):
-- the rules an order must meet before any stock is taken, for many orders at once (the
-- arrays as shop.create_orders takes them: order i has the lines whose line_orders entry
-- is i). One row per order, in input order, with the first rule it breaks (all null when
-- it breaks none), checked in this order:
--   TLIA1 USER_ID_INVALID, ADDRESS_ID_INVALID (not a positive id);
--   TLIA1 ITEMS_EMPTY (no line), TOO_MANY_ITEMS (more than 100 lines);
--   TLIA1 PRODUCT_ID_INVALID, QUANTITY_INVALID (< 1, or a product's lines summing past
--         an integer);
--   TLNF1 USER_NOT_FOUND, ADDRESS_NOT_FOUND (missing, or not this user's).
-- Products are not looked at: shop._take_stock finds the missing ones under its locks.
-- shop.create_order raises the error of its one order; shop.create_orders places a batch
-- all at once only when no order breaks a rule.
create function shop._check_orders(p_user_ids bigint[], p_delivery_address_ids bigint[],
                                   p_line_orders integer[], p_product_ids bigint[],
                                   p_quantities integer[])
returns table (ord integer, error_sqlstate text, error_reason text, error_message text,
               error_field text)
language plpgsql
stable
as $fn$
begin
    return query
    with req as (
        select r.ord::integer as ord, r.user_id, r.address_id
          from unnest(p_user_ids, p_delivery_address_ids) with ordinality r (user_id, address_id, ord)
    ),
    per_product as (
        select l.o, count(*) as n, sum(l.quantity) as q,
               bool_or(l.product_id is null or l.product_id < 1) as bad_product,
               bool_or(l.quantity is null or l.quantity < 1) as bad_quantity
          from unnest(p_line_orders, p_product_ids, p_quantities) l (o, product_id, quantity)
         where l.o between 1 and coalesce(cardinality(p_user_ids), 0)
         group by l.o, l.product_id
    ),
    per_order as (
        select x.o, sum(x.n) as n, bool_or(x.bad_product) as bad_product,
               bool_or(x.bad_quantity) as bad_quantity, bool_or(x.q > 2147483647) as too_large
          from per_product x
         group by x.o
    ),
    judged as (
        select q.ord, q.user_id, q.address_id,
               case
                   when q.user_id is null or q.user_id < 1 then 'USER_ID_INVALID'
                   when q.address_id is null or q.address_id < 1 then 'ADDRESS_ID_INVALID'
                   when coalesce(n.n, 0) < 1 then 'ITEMS_EMPTY'
                   when n.n > 100 then 'TOO_MANY_ITEMS'
                   when n.bad_product then 'PRODUCT_ID_INVALID'
                   when n.bad_quantity then 'QUANTITY_INVALID'
                   when n.too_large then 'QUANTITY_TOO_LARGE'
                   -- The address is the user's (its foreign key guarantees the user
                   -- exists): one lookup for a valid order, a second one only to tell
                   -- which of the two is missing.
                   when a.id is null
                       then case when exists (select 1 from shop.users u where u.id = q.user_id)
                                 then 'ADDRESS_NOT_FOUND' else 'USER_NOT_FOUND' end
               end as reason
          from req q
          left join per_order n on n.o = q.ord
          left join shop.addresses a on a.id = q.address_id and a.user_id = q.user_id
    )
    select j.ord,
           case when j.reason like '%_NOT_FOUND' then 'TLNF1'
                when j.reason is not null then 'TLIA1' end,
           case when j.reason = 'QUANTITY_TOO_LARGE' then 'QUANTITY_INVALID' else j.reason end,
           case j.reason
               when 'USER_ID_INVALID' then 'user_id must be a positive id'
               when 'ADDRESS_ID_INVALID' then 'delivery_address_id must be a positive id'
               when 'ITEMS_EMPTY' then
                   'an order needs 1 to 100 items, each with a product and a quantity'
               when 'TOO_MANY_ITEMS' then 'an order has at most 100 items'
               when 'PRODUCT_ID_INVALID' then 'product_id must be a positive id'
               when 'QUANTITY_INVALID' then 'quantity must be 1 or more'
               when 'QUANTITY_TOO_LARGE' then 'quantity is too large'
               when 'USER_NOT_FOUND' then format('user %s not found', j.user_id)
               when 'ADDRESS_NOT_FOUND' then
                   format('address %s of user %s not found', j.address_id, j.user_id)
           end,
           case j.reason
               when 'USER_ID_INVALID' then 'user_id'
               when 'USER_NOT_FOUND' then 'user_id'
               when 'ADDRESS_ID_INVALID' then 'delivery_address_id'
               when 'ADDRESS_NOT_FOUND' then 'delivery_address_id'
               when 'ITEMS_EMPTY' then 'items'
               when 'TOO_MANY_ITEMS' then 'items'
               when 'PRODUCT_ID_INVALID' then 'items.product_id'
               when 'QUANTITY_INVALID' then 'items.quantity'
               when 'QUANTITY_TOO_LARGE' then 'items.quantity'
           end
      from judged j
     order by j.ord;
end
$fn$;
