-- create_orders: a batch of orders, each with its own outcome; a failing order does not
-- undo the others.
begin;
set local role tally_app;
select plan(6);

create temp table u on commit drop as select * from shop.create_user('tap_batch', 'tap.batch@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'City', '', '111', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-batch-cat');
create temp table p on commit drop as select * from shop.create_product('tap bp', null, '1.50', 5, (select id from c));
create temp table q on commit drop as select * from shop.create_product('tap bq', null, '2.00', 5, (select id from c));

create temp table r on commit drop as
select * from shop.create_orders(
    array[(select id from u), (select id from u), (select id from u), 9223372036854775807],
    array[(select id from a), (select id from a), (select id from a), (select id from a)],
    array[1, 1, 2, 3, 4],
    array[(select id from p), (select id from q), (select id from p), (select id from q), (select id from p)],
    array[2, 1, 9, 4, 1]);

select results_eq($$select ord, total_price, error_sqlstate, error_reason from r order by ord$$,
    $$values (1, 5.00::numeric, null::text, null::text), (2, null, 'TLFP1', 'INSUFFICIENT_STOCK'),
             (3, 8.00, null, null), (4, null, 'TLNF1', 'USER_NOT_FOUND')$$,
    'each order its own outcome, in input order');
select is((select (error_hint::jsonb)->'precondition_failure'->0->>'available' from r where ord = 2), '3',
    'the shortfall is reported after the earlier order took its stock');
select results_eq($$select stock_quantity from shop.get_product((select id from p))
                    union all select stock_quantity from shop.get_product((select id from q))$$,
    $$values (3), (0)$$, 'the placed orders took their stock, the failed ones none');
select is((select error_field from r where ord = 4), 'user_id', 'the failing field is named');
select is((select count(*) from shop.create_orders('{}', '{}', '{}', '{}', '{}')), 0::bigint, 'an empty batch');
select throws_ok($$select shop.create_orders(array[1::bigint], '{}', '{}', '{}', '{}')$$, 'TLIA1', null,
    'arrays of different lengths');

select * from finish();
rollback;
