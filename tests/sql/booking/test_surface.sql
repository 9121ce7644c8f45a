-- booking's functions: the API (executable by tally_app) and the private rest.
begin;
select plan(3);

select functions_are('booking', array[
    'cancel_booking', 'create_event', 'get_booking', 'get_event', 'list_events',
    'reserve_seat', 'reserve_seats', 'tg_bookings__count_seats',
    'user_booking_stats']);
select is(
    array(select p.proname::text from pg_proc p
           where p.pronamespace = 'booking'::regnamespace
             and has_function_privilege('tally_app', p.oid, 'EXECUTE') order by 1),
    array['cancel_booking', 'create_event', 'get_booking', 'get_event', 'list_events',
          'reserve_seat', 'reserve_seats', 'user_booking_stats'],
    'tally_app may execute exactly the API functions');
select tables_are('booking', array['bookings', 'events']);

select * from finish();
rollback;
