-- segments.export_history: a month of adds and removes, oldest first, CSV-ready.
begin;
set local role tally_app;
select plan(13);

do $$ begin
    perform segments.create_user(9100000701);
    perform segments.create_segment('eh_a');
    perform segments.update_user_segments(9100000701, array['eh_a']);
    perform segments.update_user_segments(9100000701, '{}', array['eh_a']);
end $$;
create temp table rows on commit drop as
    select * from segments.export_history(
        extract(year from clock_timestamp() at time zone 'UTC')::int,
        extract(month from clock_timestamp() at time zone 'UTC')::int, 9100000701);
select results_eq($$select user_id, segment, operation from rows$$,
    $$values (9100000701::bigint, 'eh_a'::text, 'add'::text), (9100000701, 'eh_a', 'remove')$$,
    'add then remove, in order');
select ok((select bool_and(datetime ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$') from rows),
    'datetime is ISO 8601 UTC');
reset role;
select is((select datetime from rows limit 1),
    (select to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') from segments.history
      where user_id = 9100000701 order by id limit 1), 'the stored time, in UTC');
-- Rows outside the month are not there; the month is UTC.
insert into segments.history (user_id, segment_id, slug, operation, at) values
    (9100000701, 1, 'eh_old', 'add', '2001-02-28 23:59:59.999999+00'),
    (9100000701, 1, 'eh_old', 'remove', '2001-03-01 00:00:00+00'),
    (9100000701, 1, 'eh_old', 'add', '2001-03-01 01:00:00+02');
set local role tally_app;
select results_eq($$select segment, operation, datetime from segments.export_history(2001, 2)$$,
    $$values ('eh_old'::text, 'add'::text, '2001-02-28T23:00:00.000000Z'::text),
             ('eh_old', 'add', '2001-02-28T23:59:59.999999Z')$$,
    'February in UTC: its last microsecond and 01:00+02, by time');
select is((select count(*) from segments.export_history(2001, 1)), 0::bigint, 'an empty month');
-- Derived adds: an automatic segment created in February 2001 lists the users alive then
-- and still in that life; not a user created after it, not one deleted since, and
-- nothing for a segment whose adds are stored (adds_derived false).
reset role;
insert into segments.users (id, created_at, deleted_at) values
    (9100000798, '2001-01-01 00:00:00+00', null),
    (9100000797, '2001-02-10 12:00:00.000001+00', null),
    (9100000796, '2001-01-01 00:00:00+00', '2001-05-01 00:00:00+00');
insert into segments.segments (slug, auto_percent, created_at, adds_derived) values
    ('eh_der', 100, '2001-02-10 12:00:00+00', true),
    ('eh_stored', 100, '2001-02-11 12:00:00+00', false);
set local role tally_app;
select results_eq(
    $$select user_id, segment, operation, datetime from segments.export_history(2001, 2)
       where user_id between 9100000796 and 9100000798$$,
    $$values (9100000798::bigint, 'eh_der'::text, 'add'::text, '2001-02-10T12:00:00.000000Z'::text)$$,
    'a derived add, in its month');
select results_eq(
    $$select segment, datetime from segments.export_history(2001, 2)
       where user_id in (9100000798, 9100000701)$$,
    $$values ('eh_der'::text, '2001-02-10T12:00:00.000000Z'::text),
             ('eh_old', '2001-02-28T23:00:00.000000Z'), ('eh_old', '2001-02-28T23:59:59.999999Z')$$,
    'merged in time order with the stored rows');
select results_eq($$select user_id, segment from segments.export_history(2001, 2, 9100000798)$$,
    $$values (9100000798::bigint, 'eh_der'::text)$$, 'and with the user filter');
select is((select count(*) from segments.export_history(2001, 3) where segment = 'eh_der'), 0::bigint,
    'not in another month');
select throws_ok($$select * from segments.export_history(2023, 13)$$, 'TLIA1',
    'month must be 1 to 12', 'month 13');
select throws_ok($$select * from segments.export_history(2023, 0)$$, 'TLIA1',
    'month must be 1 to 12', 'month 0');
select throws_ok($$select * from segments.export_history(0, 1)$$, 'TLIA1',
    'year must be 1 to 9999', 'year 0');
select throws_ok($$select * from segments.export_history(2023, 1, 9100000799)$$, 'TLNF1',
    'user 9100000799 not found', 'a user never created');

select * from finish();
rollback;
