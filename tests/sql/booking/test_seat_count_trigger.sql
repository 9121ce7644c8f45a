-- The seat counter and its CHECK hold for any writer, even the owner writing tables
-- directly: inserts, deletes and updates of bookings move booked_seats, and a write
-- that would overbook fails.
begin;
set local role tally_owner;
select plan(6);

insert into booking.events (name, total_seats) values ('Direct', 2);
create temp table ev on commit drop as select id from booking.events where name = 'Direct';
insert into booking.events (name, total_seats) values ('Other', 5);

insert into booking.bookings (event_id, user_id) select id, u from ev, unnest(array['a', 'b']) u;
select is((select booked_seats from booking.events where id = (select id from ev)), 2,
    'a multi-row insert counts every row');
select throws_ok($$insert into booking.bookings (event_id, user_id) select id, 'c' from ev$$,
    '23514', null, 'a third booking violates events_booked_seats_within_total');
delete from booking.bookings where user_id = 'a' and event_id = (select id from ev);
select is((select booked_seats from booking.events where id = (select id from ev)), 1,
    'a delete gives the seat back');
update booking.bookings set event_id = (select id from booking.events where name = 'Other')
 where event_id = (select id from ev);
select is((select booked_seats from booking.events where id = (select id from ev)), 0,
    'moving a booking frees the old event');
select is((select booked_seats from booking.events where name = 'Other'), 1,
    '... and takes a seat of the new one');
select throws_ok($$update booking.events set total_seats = -1 where name = 'Other'$$, '23514',
    null, 'total_seats may not be negative');

select * from finish();
rollback;
