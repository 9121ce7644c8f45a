-- clicks.maintain_partitions: daily partitions ahead, expired days dropped, idempotent.
-- Runs as the admin (it writes into the default partition directly to simulate a missed
-- run); the job itself is executable by tally_app (see test_surface.sql).
begin;
select plan(11);

create temp view parts as
    select c.relname::text as relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'clicks.minute_counts'::regclass and c.relname <> 'minute_counts_default';

-- Far in the future, so every day it covers is new: "at" = 2100-06-15 12:00 UTC.
create temp table r1 on commit drop as
    select * from clicks.maintain_partitions('2100-06-15 12:00+00');
select ok(exists (select 1 from parts where relname = 'minute_counts_p21000622'),
    'partitions_ahead (7) days after at are created');
select ok(not exists (select 1 from parts where relname = 'minute_counts_p21000623'), 'not more');
select ok(exists (select 1 from parts where relname = 'minute_counts_p21000506'),
    'the oldest kept day (at - 40 days) has a partition');
select ok(not exists (select 1 from parts where relname < 'minute_counts_p21000506'),
    'older days (all of today''s partitions) are dropped');
select is((select count(*) from r1 where action = 'created'), 48::bigint, '48 days created');

create temp table r2 on commit drop as
    select * from clicks.maintain_partitions('2100-06-15 12:00+00');
select is_empty($$select * from r2$$, 'a second run for the same time does nothing');

-- Rows of a day without a partition wait in the default partition and are moved into
-- the day's partition when it is created.
insert into clicks.banners (name) values ('P');
insert into clicks.minute_counts (banner_id, minute, clicks)
    values ((select max(id) from clicks.banners), '2100-06-23 10:00+00', 7),
           ((select max(id) from clicks.banners), '2100-04-01 10:00+00', 1);
select is((select tableoid::regclass::text from clicks.minute_counts where minute = '2100-06-23 10:00+00'),
    'clicks.minute_counts_default', 'a day with no partition lands in the default');
create temp table r3 on commit drop as
    select * from clicks.maintain_partitions('2100-06-16 00:00+00');
select results_eq($$select action, partition_name, rows_affected from r3 order by action, partition_name$$,
    $$values ('created'::text, 'minute_counts_p21000623'::text, null::bigint),
             ('dropped', 'minute_counts_p21000506', null), ('moved', 'minute_counts_p21000623', 1),
             ('purged', 'minute_counts_default', 1)$$,
    'next day: one day dropped, one created with the waiting row moved in, an expired stray purged');
select results_eq($$select tableoid::regclass::text, clicks from clicks.minute_counts where minute = '2100-06-23 10:00+00'$$,
    $$values ('clicks.minute_counts_p21000623'::text, 7::bigint)$$, 'the moved row kept its count');
select throws_ok($$select * from clicks.maintain_partitions(null)$$, 'TLIA1', 'at must be a finite time', 'null at');
select throws_ok($$update clicks.settings set minute_retention = interval '7 days'$$, '23514', null,
    'retention may not be shorter than the ingest window + 1 day');

select * from finish();
rollback;
