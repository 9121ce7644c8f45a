-- create_orders turns only domain errors (SQLSTATE class TL, 22 data, 23 constraints)
-- into outcome rows. Any other error - here a fault injected by a trigger - fails the
-- whole statement, whichever way the batch went, instead of being hidden in a row.
begin;
select plan(5);

set local role tally_app;
create temp table u on commit drop as select * from shop.create_user('tap_fault', 'tap.fault@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'City', '', '111', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-fault-cat');
create temp table p on commit drop as select * from shop.create_product('tap fp', null, '1.00', 5, (select id from c));
reset role;

create function pg_temp.fault() returns trigger language plpgsql as $$
begin
    raise exception 'injected fault' using errcode = 'XX000';
end $$;
create trigger tap_fault before insert on shop.orders
    for each statement execute function pg_temp.fault();

set local role tally_app;
select throws_ok($$select * from shop.create_orders(array[(select id from u)], array[(select id from a)],
                                                    array[1], array[(select id from p)], array[1])$$,
    'XX000', 'injected fault', 'a fault while placing all at once fails the statement');
select throws_ok($$select * from shop.create_orders(array[(select id from u), 0], array[(select id from a), 0],
                                                    array[1, 2], array[(select id from p), (select id from p)],
                                                    array[1, 1])$$,
    'XX000', 'injected fault', 'a fault while placing order by order fails the statement');
reset role;
drop trigger tap_fault on shop.orders;

set local role tally_app;
select results_eq($$select error_sqlstate, error_reason from shop.create_orders(
                      array[(select id from u), (select id from u)], array[(select id from a), (select id from a)],
                      array[1, 2], array[(select id from p), (select id from p)], array[1, 9])$$,
    $$values (null::text, null::text), ('TLFP1', 'INSUFFICIENT_STOCK')$$,
    'a domain error is an outcome row');
select results_eq($$select error_sqlstate from shop.create_orders(
                      array[(select id from u)], array[(select id from a)],
                      array[1], array[(select id from p)], array[2147483647])$$,
    $$values ('TLFP1'::text)$$, 'so is a shortfall of a lone order');
select is((select stock_quantity from shop.get_product((select id from p))), 4,
    'only the order that fitted took stock');

select * from finish();
rollback;
