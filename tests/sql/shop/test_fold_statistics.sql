-- The statistics journal and fold_statistics: one journal row per (category, day) per
-- INSERT statement; a fold moves the journal into the totals without changing what
-- shop.statistics and get_sales_statistics say; a second fold finds nothing.
begin;
select plan(14);

-- Owner-side setup: lines written straight into the table, as a psql user with the
-- privilege would (the trigger does not care who inserts).
insert into shop.categories (id, name) overriding system value
values (-301, 'tap-journal-a'), (-302, 'tap-journal-b');
insert into shop.users (id, username, email) overriding system value
values (-301, 'tap_journal', 'tap.journal@example.com');
insert into shop.addresses (id, user_id, street, city, state, zip_code, country, is_primary)
overriding system value values (-301, -301, 'Main 1', 'City', '', '111', 'DE', true);
insert into shop.products (id, name, price, stock_quantity, category_id) overriding system value
values (-301, 'tap j1', 1.00, 100, -301), (-302, 'tap j2', 1.00, 100, -301),
       (-303, 'tap j3', 1.00, 100, -302);
insert into shop.orders (id, user_id, delivery_address_id, total_price) overriding system value
values (-301, -301, -301, 1.00), (-302, -301, -301, 1.00), (-303, -301, -301, 1.00);

create temp table journal_before on commit drop as select count(*) as n from shop.statistics_journal;
grant select on journal_before to tally_jobs;

-- One statement: order -301 has two lines of category a, order -302 one line of a and one
-- of b, all on one day; order -303 one line of b on the next day.
insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
values (-301, -301, 2, 1.00, -301, '2031-03-01'), (-301, -302, 3, 1.00, -301, '2031-03-01'),
       (-302, -301, 1, 1.00, -301, '2031-03-01'), (-302, -303, 4, 1.00, -302, '2031-03-01'),
       (-303, -303, 5, 1.00, -302, '2031-03-02');

select results_eq(
    $$select category_id, report_date, items_sold, orders_count from shop.statistics_journal
       where category_id in (-301, -302) order by 1 desc, 2$$,
    $$values (-301::bigint, '2031-03-01'::date, 6::bigint, 2::bigint),
             (-302::bigint, '2031-03-01'::date, 4::bigint, 1::bigint),
             (-302::bigint, '2031-03-02'::date, 5::bigint, 1::bigint)$$,
    'one journal row per (category, day) of the statement: items summed, orders counted once');

-- A second statement on a key already in the journal appends another row.
insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
values (-303, -301, 7, 1.00, -301, '2031-03-01');
select is((select count(*) from shop.statistics_journal where category_id = -301), 2::bigint,
          'a later statement appends, it does not update');

create temp table seen on commit drop as
    select category_id, report_date, items_sold, orders_count from shop.statistics
     where category_id in (-301, -302);
select results_eq(
    $$select category_id, report_date, items_sold, orders_count from seen order by 1 desc, 2$$,
    $$values (-301::bigint, '2031-03-01'::date, 13::bigint, 3::bigint),
             (-302::bigint, '2031-03-01'::date, 4::bigint, 1::bigint),
             (-302::bigint, '2031-03-02'::date, 5::bigint, 1::bigint)$$,
    'shop.statistics sums the journal');

-- fold as the job runner's role, as the job runs it.
set local role tally_jobs;
select is(shop.fold_statistics(), (select n from journal_before) + 4,
          'fold_statistics returns how many journal rows it folded');
reset role;
select is((select count(*) from shop.statistics_journal), 0::bigint, 'the journal is empty');
select results_eq(
    $$select category_id, report_date, items_sold, orders_count from shop.statistics_totals
       where category_id in (-301, -302) order by 1 desc, 2$$,
    $$select category_id, report_date, items_sold, orders_count from seen order by 1 desc, 2$$,
    'the totals hold what the journal held, one row per key');
select results_eq(
    $$select category_id, report_date, items_sold, orders_count from shop.statistics
       where category_id in (-301, -302) order by 1 desc, 2$$,
    $$select category_id, report_date, items_sold, orders_count from seen order by 1 desc, 2$$,
    'shop.statistics is unchanged by the fold');
select results_eq(
    $$select category_id, report_date, items_sold, orders_count
        from shop.get_sales_statistics(null, '2031-03-01', '2031-03-02')
       where category_id in (-301, -302)$$,
    $$select category_id, report_date, items_sold, orders_count from seen
       order by report_date, category_id$$,
    'get_sales_statistics is unchanged by the fold');
select is(shop.fold_statistics(), 0::bigint, 'a second fold finds nothing');
select results_eq(
    $$select category_id, report_date, items_sold, orders_count from shop.statistics
       where category_id in (-301, -302) order by 1 desc, 2$$,
    $$select category_id, report_date, items_sold, orders_count from seen order by 1 desc, 2$$,
    'and changes nothing');

-- New lines after a fold: journal and totals together, then folded onto the totals.
insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
values (-302, -302, 10, 1.00, -301, '2031-03-01');
select results_eq(
    $$select items_sold, orders_count from shop.get_sales_statistics(-301, '2031-03-01', '2031-03-01')$$,
    $$values (23::bigint, 4::bigint)$$, 'totals plus journal, for one category');
select is(shop.fold_statistics(), 1::bigint, 'the new row is folded');
select results_eq(
    $$select items_sold, orders_count from shop.statistics_totals
       where category_id = -301 and report_date = '2031-03-01'$$,
    $$values (23::bigint, 4::bigint)$$, 'added onto the existing total');
select results_eq(
    $$select items_sold, orders_count from shop.statistics where category_id = -301$$,
    $$values (23::bigint, 4::bigint)$$, 'the view agrees');

select * from finish();
rollback;
