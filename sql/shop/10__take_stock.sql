-- _take_stock(product_ids[], quantities[]): takes what the lines need from stock, all or
-- nothing: the quantities are summed per product, the products locked in id order
-- (concurrent takes queue in one order and cannot deadlock), then one conditional
-- UPDATE takes every product's need where the stock covers it. Returns the products
-- taken from, sorted by id, with what order lines copy (price, category). If any
-- product is missing or short it raises, which undoes the UPDATE with the caller's
-- (sub)transaction:
--   TLNF1 PRODUCT_NOT_FOUND (every missing product in the message);
--   TLFP1 INSUFFICIENT_STOCK - HINT holds {"precondition_failure": [{type, subject,
--         description, product_id, available, requested}, ...]}, one per short product.
-- The CHECK products_stock_nonnegative backs the UPDATE for any writer.
create function shop._take_stock(p_product_ids bigint[], p_quantities bigint[],
                                 out product_ids bigint[], out prices numeric[],
                                 out category_ids bigint[])
language plpgsql
as $fn$
declare
    v_needed integer;
    v_missing bigint[];
    v_short jsonb;
begin
    perform shop._lock_products(p_product_ids);

    with need as (
        select x.product_id, sum(x.q)::bigint as q
          from unnest(p_product_ids, p_quantities) x (product_id, q)
         group by x.product_id),
    taken as (
        update shop.products p
           set stock_quantity = p.stock_quantity - m.q
          from need m
         where p.id = m.product_id and p.stock_quantity >= m.q
        returning p.id, p.price, p.category_id)
    select array_agg(t.id order by t.id), array_agg(t.price order by t.id),
           array_agg(t.category_id order by t.id), (select count(*)::integer from need)
      into product_ids, prices, category_ids, v_needed
      from taken t;

    if coalesce(cardinality(product_ids), 0) < v_needed then
        -- What is not locked does not exist.
        select array_agg(distinct x order by x) into v_missing
          from unnest(p_product_ids) x
         where not exists (select 1 from shop.products p where p.id = x);
        if v_missing is not null then
            perform tally.raise_error('TLNF1', 'PRODUCT_NOT_FOUND',
                format('product %s not found', array_to_string(v_missing, ', ')),
                'items.product_id');
        end if;
        select jsonb_agg(jsonb_build_object(
                   'type', 'INSUFFICIENT_STOCK',
                   'subject', 'product:' || p.id,
                   'description', format('Insufficient stock for product %s. Available: %s, Requested: %s',
                                         p.id, p.stock_quantity, m.q),
                   'product_id', p.id, 'available', p.stock_quantity, 'requested', m.q)
                 order by p.id)
          into v_short
          from (select x.product_id, sum(x.q)::bigint as q
                  from unnest(p_product_ids, p_quantities) x (product_id, q)
                 group by x.product_id) m
          join shop.products p on p.id = m.product_id
         where p.id <> all (coalesce(product_ids, '{}'));
        perform tally.raise_error('TLFP1', 'INSUFFICIENT_STOCK',
            'insufficient stock: ' || (select string_agg(e->>'description', '; ')
                                         from jsonb_array_elements(v_short) e),
            'items', jsonb_build_object('precondition_failure', v_short)::text);
    end if;
end
$fn$;
