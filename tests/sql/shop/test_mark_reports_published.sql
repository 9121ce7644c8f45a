-- mark_reports_published: what the AMQP bridge publishes next, per queue, and the record
-- of what the broker confirmed; tally_app may neither call it nor read the record.
begin;
select plan(9);

create temp table before on commit drop as
select coalesce(max(id), 0) as max_id from shop.report_outbox;
insert into shop.report_outbox (report_date, reports_count, reports)
values ('1998-01-01', 0, '[]'), ('1998-01-02', 0, '[]'), ('1998-01-03', 0, '[]');
create temp table mine on commit drop as
select id, report_date from shop.report_outbox where id > (select max_id from before);
-- Earlier summaries (of other tests) count as published to these test queues.
insert into shop.report_publications (queue, outbox_id)
select q, b.id from shop.report_outbox b, unnest(array['tap-q1', 'tap-q2']) q
 where b.id <= (select max_id from before);
grant select on mine to tally_jobs;

set local role tally_jobs;
select results_eq($$select report_date from shop.mark_reports_published('tap-q1', '{}')$$,
    $$values ('1998-01-01'::date), ('1998-01-02'::date), ('1998-01-03'::date)$$,
    'with nothing published, every summary, oldest first');
select results_eq($$select report_date from shop.mark_reports_published('tap-q1',
                        array(select id from mine where report_date <= '1998-01-02'), 1)$$,
    $$values ('1998-01-03'::date)$$, 'published ones are recorded and not offered again');
select results_eq($$select report_date from shop.mark_reports_published('tap-q1',
                        array(select id from mine where report_date = '1998-01-02'))$$,
    $$values ('1998-01-03'::date)$$, 'recording an id twice keeps it once');
select results_eq($$select report_date from shop.mark_reports_published('tap-q2', null, 1)$$,
    $$values ('1998-01-01'::date)$$, 'each queue has its own record');
select throws_ok($$select * from shop.mark_reports_published('', '{}')$$, 'TLIA1',
    'queue must be 1 to 255 bytes', 'an empty queue name');
select throws_ok($$select * from shop.mark_reports_published('tap-q1', '{}', 0)$$, 'TLIA1',
    'limit must be 1 to 1000', 'a limit out of range');
select throws_ok($$select * from shop.mark_reports_published('tap-q1', array[-5]::bigint[])$$,
    'TLNF1', 'report summary -5 not found', 'an id that is not in the outbox');
reset role;

set local role tally_app;
select throws_ok($$select * from shop.mark_reports_published('tap-q3', '{}')$$, '42501', null,
    'tally_app cannot mark summaries published (nor so keep one from a queue)');
select throws_ok($$select * from shop.report_publications$$, '42501', null,
    'nor read the record');

select * from finish();
rollback;
