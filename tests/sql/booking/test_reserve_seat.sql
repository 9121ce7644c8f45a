-- booking.reserve_seat: one seat per user, never more than total_seats, clear errors.
begin;
set local role tally_app;
select plan(14);

create temp table ev on commit drop as select * from booking.create_event('Two seats', 2);
create temp table zero on commit drop as select * from booking.create_event('No seats', 0);

select results_eq($$select event_id, user_id from booking.reserve_seat((select id from ev), 'alice')$$,
    $$select id, 'alice'::text from ev$$, 'a free seat is reserved');
create temp table bob on commit drop as select * from booking.reserve_seat((select id from ev), 'bob');
select isnt((select created_at from booking.get_booking((select id from bob))), null,
    'a second user gets the last seat, with a timestamp');
select throws_ok($$select booking.reserve_seat((select id from ev), 'alice')$$, 'TLAE1',
    format('user already holds a seat for event %s', (select id from ev)), 'same user again');
select throws_ok($$select booking.reserve_seat((select id from ev), 'carol')$$, 'TLFP1',
    format('no seats left for event %s', (select id from ev)), 'sold out');
select throws_ok($$select booking.reserve_seat((select id from zero), 'carol')$$, 'TLFP1',
    null, 'an event with no seats is sold out');
select throws_ok($$select booking.reserve_seat(9223372036854775807, 'carol')$$, 'TLNF1',
    'event 9223372036854775807 not found', 'unknown event');
select throws_ok($$select booking.reserve_seat(0, 'carol')$$, 'TLIA1',
    'event_id must be a positive id', 'event id 0');
select throws_ok($$select booking.reserve_seat(null, 'carol')$$, 'TLIA1',
    'event_id must be a positive id', 'null event id');
select throws_ok($$select booking.reserve_seat((select id from ev), '')$$, 'TLIA1',
    'user_id must be 1 to 255 characters', 'empty user id');
select throws_ok($$select booking.reserve_seat((select id from ev), repeat('u', 256))$$, 'TLIA1',
    'user_id must be 1 to 255 characters', '256-character user id');
select throws_ok($$select booking.reserve_seat((select id from ev), null)$$, 'TLIA1',
    'user_id must be 1 to 255 characters', 'null user id');
select is((select available_seats from booking.get_event((select id from ev))), 0,
    'both seats taken, none below zero');

-- The reason travels in DETAIL, the argument's name in COLUMN.
create temp table caught (detail text, col text) on commit drop;
do $$
declare d text; c text;
begin
    perform booking.reserve_seat((select id from ev), '');
exception when sqlstate 'TLIA1' then
    get stacked diagnostics d = pg_exception_detail, c = column_name;
    insert into caught values (d, c);
end $$;
select results_eq($$select detail, col from caught$$, $$values ('USER_ID_INVALID'::text, 'user_id'::text)$$,
    'reason in DETAIL, field in COLUMN');
select lives_ok($$select booking.reserve_seat((select id from booking.create_event('Big', 5)), repeat('u', 255))$$,
    '255-character user id');

select * from finish();
rollback;
