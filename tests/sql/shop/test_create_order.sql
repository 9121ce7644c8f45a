-- create_order: validation, merged lines, prices copied, stock taken, all or nothing.
begin;
set local role tally_app;
select plan(26);

create temp table u on commit drop as select * from shop.create_user('tap_buyer', 'tap.buyer@example.com');
create temp table other on commit drop as select * from shop.create_user('tap_other', 'tap.other@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'City', '', '111', 'DE', true);
create temp table oa on commit drop as
    select * from shop.add_address((select id from other), 'Else 2', 'City', '', '222', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-order-cat');
create temp table p1 on commit drop as select * from shop.create_product('tap p1', null, '12.50', 5, (select id from c));
create temp table p2 on commit drop as select * from shop.create_product('tap p2', null, '0.10', 3, (select id from c));

create temp table o on commit drop as
    select * from shop.create_order((select id from u), (select id from a),
                                    array[(select id from p2), (select id from p1), (select id from p2)],
                                    array[1, 2, 1]);
select results_eq($$select status::text, total_price from o$$, $$values ('PENDING'::text, 25.20::numeric)$$,
    'a new order is PENDING with the exact total');
select is((select items from o),
    jsonb_build_array(
        jsonb_build_object('product_id', (select id from p1), 'quantity', 2, 'price_at_order', '12.50'),
        jsonb_build_object('product_id', (select id from p2), 'quantity', 2, 'price_at_order', '0.10')),
    'repeated products are merged into one line, prices copied as decimal text');
select results_eq($$select stock_quantity from shop.get_product((select id from p1))
                    union all select stock_quantity from shop.get_product((select id from p2))$$,
    $$values (3), (1)$$, 'stock is taken');
do $$ begin perform shop.update_product((select id from p1), p_price => '99.99'); end $$;
select is((select items->0->>'price_at_order' from shop.get_order((select id from o))), '12.50',
    'price_at_order does not follow later price changes');

select throws_ok($$select shop.create_order((select id from u), (select id from a),
                                            array[(select id from p1), (select id from p2)], array[1, 5])$$,
    'TLFP1', format('insufficient stock: Insufficient stock for product %s. Available: 1, Requested: 5',
                    (select id from p2)), 'one short line fails the order');
select results_eq($$select stock_quantity from shop.get_product((select id from p1))$$, $$values (3)$$,
    'never a partial order: the covered line kept its stock');
select throws_ok($$select shop.create_order((select id from u), (select id from a),
                                            array[(select id from p1), (select id from p2)], array[4, 2])$$,
    'TLFP1', format('insufficient stock: Insufficient stock for product %s. Available: 3, Requested: 4; '
                    'Insufficient stock for product %s. Available: 1, Requested: 2',
                    (select id from p1), (select id from p2)), 'every shortfall is listed');
select throws_ok($$select shop.create_order((select id from u), (select id from oa), array[(select id from p1)], array[1])$$,
    'TLNF1', null, 'another user''s address');
select throws_ok($$select shop.create_order((select id from u), 9223372036854775807, array[(select id from p1)], array[1])$$,
    'TLNF1', null, 'unknown address');
select throws_ok($$select shop.create_order(9223372036854775807, (select id from a), array[(select id from p1)], array[1])$$,
    'TLNF1', null, 'unknown user');
select throws_ok($$select shop.create_order((select id from u), (select id from a), array[9223372036854775807], array[1])$$,
    'TLNF1', 'product 9223372036854775807 not found', 'unknown product');
select throws_ok($$select shop.create_order((select id from u), (select id from a), array[]::bigint[], array[]::integer[])$$,
    'TLIA1', null, 'no items');
select throws_ok($$select shop.create_order((select id from u), (select id from a), array[(select id from p1)], array[1, 2])$$,
    'TLIA1', null, 'arrays of different lengths');
select throws_ok($$select shop.create_order((select id from u), (select id from a), array[(select id from p1)], array[0])$$,
    'TLIA1', 'quantity must be 1 or more', 'quantity 0');
select throws_ok($$select shop.create_order((select id from u), (select id from a), array[(select id from p1)], array[-1])$$,
    'TLIA1', 'quantity must be 1 or more', 'negative quantity');
select throws_ok($$select shop.create_order((select id from u), (select id from a), array[0::bigint], array[1])$$,
    'TLIA1', 'product_id must be a positive id', 'bad product id');
select throws_ok($$select shop.create_order(0, (select id from a), array[(select id from p1)], array[1])$$,
    'TLIA1', 'user_id must be a positive id', 'bad user id');
select throws_ok($$select shop.create_order((select id from u), 0, array[(select id from p1)], array[1])$$,
    'TLIA1', 'delivery_address_id must be a positive id', 'bad address id');
select throws_ok($$select shop.create_order((select id from u), (select id from a),
                                            array[(select id from p1), (select id from p1)], array[2147483647, 2147483647])$$,
    'TLIA1', 'quantity is too large', 'merged quantity beyond integer');
select throws_ok($$select shop.create_order((select id from u), (select id from a),
                                            array(select (select id from p1) from generate_series(1, 101)),
                                            array_fill(1, array[101]))$$,
    'TLIA1', 'an order has at most 100 items', '101 items: TOO_MANY_ITEMS, not ITEMS_EMPTY');
create function pg_temp.error_of(p_sql text) returns text language plpgsql as $f$
declare v_detail text; v_column text;
begin
    execute p_sql;
    return null;
exception when others then
    get stacked diagnostics v_detail = pg_exception_detail, v_column = column_name;
    return v_detail || ' ' || v_column;
end $f$;
select is(pg_temp.error_of(format('select shop.create_order(%s, %s, array[%s], array[1000])',
                                  (select id from u), (select id from a), (select id from p1))),
          'INSUFFICIENT_STOCK items', 'INSUFFICIENT_STOCK names the field items');
select is(pg_temp.error_of(format('select shop.create_order(%s, %s, array(select %s from generate_series(1, 101)), array_fill(1, array[101]))',
                                  (select id from u), (select id from a), (select id from p1))),
          'TOO_MANY_ITEMS items', 'TOO_MANY_ITEMS names the field items');
create temp table dear on commit drop as
    select * from shop.create_product('tap dear', null, '9999999999.99', 1000, (select id from c));
select is(pg_temp.error_of(format('select shop.create_order(%s, %s, array[%s], array[101])',
                                  (select id from u), (select id from a), (select id from dear))),
          'TOTAL_TOO_LARGE items', 'a total past numeric(14,2) is TOTAL_TOO_LARGE naming items');
select throws_ok($$update shop.products set stock_quantity = -1$$, '42501', null,
    'the application role cannot write products');
reset role;
select throws_ok($$update shop.products set stock_quantity = -1 where id = (select id from p1)$$, '23514', null,
    'stock can never be negative, whoever writes it (CHECK products_stock_nonnegative)');
select is((select count(*) from shop.order_items i where i.order_id = (select id from o)), 2::bigint,
    'one line per product');

select * from finish();
rollback;
