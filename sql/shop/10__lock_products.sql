-- _lock_products(product_ids[]): locks these products (those that exist) FOR NO KEY
-- UPDATE in id order. Every writer of stock locks this way before it changes any, so
-- concurrent orders, batches and cancellations over the same products queue in one
-- order and cannot deadlock.
create function shop._lock_products(p_product_ids bigint[])
returns void
language plpgsql
as $fn$
begin
    perform 1 from shop.products p where p.id = any (p_product_ids) order by p.id
        for no key update;
end
$fn$;
