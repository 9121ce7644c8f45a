-- booking.create_event: validation and the new event's shape, as the application role.
begin;
set local role tally_app;
select plan(9);

select results_eq(
    $$select name, total_seats, available_seats from booking.create_event('Concert', 10)$$,
    $$values ('Concert'::text, 10, 10)$$,
    'a new event has every seat free');
select lives_ok($$select booking.create_event('Empty hall', 0)$$, 'zero seats is allowed');
select lives_ok($$select booking.create_event(repeat('n', 200), 1)$$, '200-character name');
select throws_ok($$select booking.create_event('', 1)$$, 'TLIA1',
    'name must be 1 to 200 characters', 'empty name');
select throws_ok($$select booking.create_event(repeat('n', 201), 1)$$, 'TLIA1',
    'name must be 1 to 200 characters', '201-character name');
select throws_ok($$select booking.create_event(null, 1)$$, 'TLIA1',
    'name must be 1 to 200 characters', 'null name');
select throws_ok($$select booking.create_event('Gig', -1)$$, 'TLIA1',
    'total_seats must be zero or more', 'negative seats');
select throws_ok($$select booking.create_event('Gig', null)$$, 'TLIA1',
    'total_seats must be zero or more', 'null seats');
select throws_ok($$insert into booking.events (name, total_seats) values ('x', 1)$$, '42501',
    null, 'the application role cannot insert events directly');

select * from finish();
rollback;
