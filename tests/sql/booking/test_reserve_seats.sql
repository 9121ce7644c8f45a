-- booking.reserve_seats: a batch, with one outcome per pair in input order.
begin;
set local role tally_app;
select plan(7);

create temp table ev on commit drop as select * from booking.create_event('Batch', 2);

create temp table r1 on commit drop as
    select * from booking.reserve_seats(
        array[(select id from ev), (select id from ev), (select id from ev), (select id from ev), 0, 9223372036854775807]::bigint[],
        array['a', 'a', 'b', 'c', 'd', 'e']);

select results_eq($$select ord, error_reason from r1 order by ord$$,
    $$values (1, null::text), (2, 'ALREADY_BOOKED'), (3, null), (4, 'SOLD_OUT'),
             (5, 'EVENT_ID_INVALID'), (6, 'EVENT_NOT_FOUND')$$,
    'earlier pairs win; a repeated pair is ALREADY_BOOKED; the rest are SOLD_OUT');
select results_eq($$select error_sqlstate from r1 order by ord$$,
    $$values (null::text), ('TLAE1'), (null), ('TLFP1'), ('TLIA1'), ('TLNF1')$$,
    'SQLSTATEs per outcome');
select results_eq($$select error_field from r1 order by ord$$,
    $$values (null::text), ('user_id'), (null), ('event_id'), ('event_id'), ('event_id')$$,
    'every error names its field: ALREADY_BOOKED the user, SOLD_OUT the event');
select is((select count(*) from r1 where booking_id is not null), 2::bigint, 'two bookings');
select is((select available_seats from booking.get_event((select id from ev))), 0, 'event full');

create temp table r2 on commit drop as
    select * from booking.reserve_seats(array[(select id from ev), (select id from ev)]::bigint[],
                                        array['x', 'x']);
select results_eq($$select error_reason from r2 order by ord$$,
    $$values ('SOLD_OUT'::text), ('SOLD_OUT')$$,
    'a repeat of a pair that lost shares its error');
select throws_ok($$select * from booking.reserve_seats(array[1]::bigint[], array['a', 'b'])$$,
    'TLIA1', 'event_ids and user_ids must have the same length', 'arrays of unequal length');

select * from finish();
rollback;
