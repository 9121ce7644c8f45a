-- tally._idempotent_requests: a keyed batch's request texts, name[arguments as JSON], one
-- per item of the first column.
begin;
select plan(5);

select is(tally._idempotent_requests('booking.reserve_seats', to_jsonb(array[7, 8]::bigint[]),
                                     to_jsonb(array['ann', 'bo"b'])),
    array['booking.reserve_seats[7, "ann"]', 'booking.reserve_seats[8, "bo\"b"]'],
    'one text per item, the same as jsonb_build_array of its arguments');
select is(tally._idempotent_requests('f', to_jsonb(array[1, 2, 3]), to_jsonb(array[5])),
    array['f[1, 5]', 'f[2, null]', 'f[3, null]'],
    'an item missing from a shorter column is null');
select is(tally._idempotent_requests('f', to_jsonb(array[1]), null),
    array['f[1, null]'], 'so is every item of a null column');
select is(tally._idempotent_requests('f', null, to_jsonb(array[1])), '{}'::text[],
    'no first column, no items');
select throws_ok($$set local role tally_app; select tally._idempotent_requests('f', '[1]')$$,
    '42501', null, 'not executable by the application role');

select * from finish();
rollback;
