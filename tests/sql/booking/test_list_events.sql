-- booking.list_events: keyset pages in id order, page size limits.
begin;
set local role tally_app;
select plan(5);

create temp table ev on commit drop as
    select (booking.create_event('Page ' || i, i)).id from generate_series(1, 5) i;

select results_eq(
    $$select id from booking.list_events((select min(id) - 1 from ev), 3)$$,
    $$select id from ev order by id limit 3$$, 'first page: the three lowest ids');
select results_eq(
    $$select id from booking.list_events((select id from ev order by id offset 2 limit 1), 100)$$,
    $$select id from ev order by id offset 3$$, 'next page starts after the last id');
select throws_ok($$select * from booking.list_events(0, 0)$$, 'TLIA1',
    'page_size must be 1 to 100', 'page size 0');
select throws_ok($$select * from booking.list_events(0, 101)$$, 'TLIA1',
    'page_size must be 1 to 100', 'page size 101');
select is((select count(*) from booking.list_events(0, 100)) <= 100, true, 'never more than 100');

select * from finish();
rollback;
