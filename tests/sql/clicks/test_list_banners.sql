-- clicks.list_banners: keyset pages in id order.
begin;
set local role tally_app;
select plan(5);

create temp table made on commit drop as
    select (clicks.create_banner('L' || g)).id from generate_series(1, 5) g;
select results_eq(
    $$select id from clicks.list_banners((select min(id) - 1 from made), 3)$$,
    $$select id from made order by id limit 3$$, 'first page: the first three, by id');
select results_eq(
    $$select id from clicks.list_banners((select id from made order by id offset 2 limit 1), 3)$$,
    $$select id from made order by id offset 3$$, 'next page starts after the last id');
select is((select count(*) from clicks.list_banners(0, 100)) >= 5, true, 'page size 100 allowed');
select throws_ok($$select * from clicks.list_banners(0, 0)$$, 'TLIA1', 'page_size must be 1 to 100', 'page size 0');
select throws_ok($$select * from clicks.list_banners(0, 101)$$, 'TLIA1', null, 'page size 101');

select * from finish();
rollback;
