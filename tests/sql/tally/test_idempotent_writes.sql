-- Every keyed write function, as a psql user calls it (tally_app): the key is the
-- optional p_idempotency_key argument; a repeat with the same key and arguments answers
-- what the first call answered and writes nothing more, another request with the key is
-- IDEMPOTENCY_KEY_REUSED.
begin;
set local role tally_app;
select plan(34);

-- booking
create temp table e1 on commit drop as select * from booking.create_event('idem tap', 3, 'tap-e');
select results_eq($$select * from booking.create_event('idem tap', 3, 'tap-e')$$,
    $$select * from e1$$, 'create_event: a repeat answers the same event');
select is((select count(*) from booking.list_events(0, 100) where name = 'idem tap'), 1::bigint,
    'create_event: one event written');
select throws_ok($$select * from booking.create_event('idem tap 2', 3, 'tap-e')$$, 'TLFP1',
    'this idempotency key was used with a different request',
    'create_event: the key with other arguments is IDEMPOTENCY_KEY_REUSED');
select throws_ok($$select * from clicks.create_banner('idem tap', 'tap-e')$$, 'TLFP1', null,
    'a key names one request of one function: another function is a different request');
create temp table b1 on commit drop as
    select * from booking.reserve_seat((select id from e1), 'tap-user', 'tap-r');
select results_eq($$select * from booking.reserve_seat((select id from e1), 'tap-user', 'tap-r')$$,
    $$select * from b1$$, 'reserve_seat: a repeat answers the same booking, not ALREADY_BOOKED');
create temp table rs on commit drop as
    select * from booking.reserve_seats(array[(select id from e1), (select id from e1), (select id from e1)],
                                        array['tap-u2', 'tap-u2', 'tap-user'],
                                        array['tap-rs', 'tap-rs', 'tap-r2']);
select results_eq($$select ord, booking_id is not null, error_reason from rs order by ord$$,
    $$values (1, true, null::text), (2, true, null), (3, false, 'ALREADY_BOOKED')$$,
    'reserve_seats: a key repeated in the batch is one booking, answered to both items');
select results_eq(
    $$select * from booking.reserve_seats(array[(select id from e1), (select id from e1), (select id from e1)],
                                          array['tap-u2', 'tap-u2', 'tap-user'],
                                          array['tap-rs', 'tap-rs', 'tap-r2'])$$,
    $$select * from rs$$, 'reserve_seats: a repeat of the batch answers every outcome again, errors too');
select is((select available_seats from booking.get_event((select id from e1))), 1,
    'two seats taken in all');
select is(booking.cancel_booking((select id from b1), 'tap-c'), (select id from e1),
    'cancel_booking: keyed');
select is(booking.cancel_booking((select id from b1), 'tap-c'), (select id from e1),
    'cancel_booking: a repeat answers the same, not BOOKING_NOT_FOUND');

-- clicks
create temp table bn on commit drop as select * from clicks.create_banner('idem tap', 'tap-b');
select results_eq($$select * from clicks.create_banner('idem tap', 'tap-b')$$, $$select * from bn$$,
    'create_banner: a repeat answers the same banner');
select is(clicks.record_click((select id from bn), 'tap-click'),
          clicks.record_click((select id from bn), 'tap-click'),
    'record_click: a repeat answers the same minute');
select is(clicks.ingest_clicks(array[(select id from bn)], array[5], array[null::timestamptz], 'tap-in'),
          clicks.ingest_clicks(array[(select id from bn)], array[5], array[null::timestamptz], 'tap-in'),
    'ingest_clicks: a repeat answers the same count');
select results_eq($$select ord, error_sqlstate, replayed
                      from clicks.record_clicks(array[(select id from bn), (select id from bn)],
                                                array[1, 1], array[now(), now()],
                                                array['tap-rc', 'tap-rc'])$$,
    $$values (1, null::text, false), (2, null, true)$$,
    'record_clicks: a key repeated in the batch counts once, the repeat is marked replayed');
select is((select sum(clicks) from clicks.stats((select id from bn), now() - interval '1 hour',
                                                now() + interval '2 minutes')), 7::numeric,
    'clicks counted once per key: 1 + 5 + 1');

-- segments
select results_eq($$select user_id, created from segments.create_user(9901, 'tap-su')$$,
    $$select user_id, created from segments.create_user(9901, 'tap-su')$$,
    'segments.create_user: a repeat answers created as the first did');
create temp table sg on commit drop as select * from segments.create_segment('IDEM_TAP', null, 'tap-sg');
select results_eq($$select * from segments.create_segment('IDEM_TAP', null, 'tap-sg')$$,
    $$select * from sg$$, 'create_segment: a repeat answers the same segment, not SLUG_TAKEN');
create temp table up on commit drop as
    select * from segments.update_user_segments(9901, array['IDEM_TAP'], '{}', null, null, 'tap-up');
select results_eq($$select * from segments.update_user_segments(9901, array['IDEM_TAP'], '{}', null, null, 'tap-up')$$,
    $$select * from up$$, 'update_user_segments: a repeat answers added = true again');
select is(segments.delete_segment('IDEM_TAP', 'tap-ds'), segments.delete_segment('IDEM_TAP', 'tap-ds'),
    'delete_segment: a repeat answers the same count, not SEGMENT_NOT_FOUND');
select is(segments.delete_user(9901, 'tap-du'), segments.delete_user(9901, 'tap-du'),
    'delete_user: a repeat answers the same count');

-- shop
create temp table su on commit drop as select * from shop.create_user('idem_tap', 'idem.tap@example.com', null, 'tap-u');
select results_eq($$select * from shop.create_user('idem_tap', 'idem.tap@example.com', null, 'tap-u')$$,
    $$select * from su$$, 'shop.create_user: a repeat answers the same user, not USERNAME_TAKEN');
create temp table sa on commit drop as
    select * from shop.add_address((select id from su), 'Main 1', 'City', '', '111', 'DE', true, 'tap-a');
select results_eq($$select * from shop.add_address((select id from su), 'Main 1', 'City', '', '111', 'DE', true, 'tap-a')$$,
    $$select * from sa$$, 'add_address: a repeat answers the same address');
select is((select count(*) from shop.list_addresses((select id from su))), 1::bigint,
    'add_address: one address per key');
create temp table su2 on commit drop as
    select * from shop.update_user((select id from su), null, null, 'keyed', 'tap-uu');
select results_eq($$select * from shop.update_user((select id from su), null, null, 'keyed', 'tap-uu')$$,
    $$select * from su2$$, 'update_user: a repeat answers the same user (same updated_at)');
create temp table sc on commit drop as select * from shop.create_category('idem-tap', 'tap-cat');
select results_eq($$select * from shop.create_category('idem-tap', 'tap-cat')$$,
    $$select * from sc$$, 'create_category: a repeat answers the same category, not CATEGORY_NAME_TAKEN');
create temp table sp on commit drop as
    select * from shop.create_product('idem tap', null, '2.00', 10, (select id from sc), 'tap-p');
select results_eq($$select * from shop.create_product('idem tap', null, '2.00', 10, (select id from sc), 'tap-p')$$,
    $$select * from sp$$, 'create_product: a repeat answers the same product');
create temp table sp2 on commit drop as
    select * from shop.update_product((select id from sp), null, null, '3.00', null, null, 'tap-upd');
select results_eq($$select * from shop.update_product((select id from sp), null, null, '3.00', null, null, 'tap-upd')$$,
    $$select * from sp2$$, 'update_product: a repeat answers the same product (same updated_at)');
create temp table so on commit drop as
    select * from shop.create_order((select id from su), (select id from sa),
                                    array[(select id from sp)], array[2], 'tap-o');
select results_eq($$select * from shop.create_order((select id from su), (select id from sa),
                                                    array[(select id from sp)], array[2], 'tap-o')$$,
    $$select * from so$$, 'create_order: a repeat answers the same order');
select results_eq(
    $$select id from shop.create_orders(array[(select id from su), (select id from su)],
                                         array[(select id from sa), (select id from sa)],
                                         array[1, 2], array[(select id from sp), (select id from sp)],
                                         array[1, 1], array['tap-os', 'tap-os'])$$,
    $$select id from shop.create_orders(array[(select id from su)], array[(select id from sa)],
                                        array[1], array[(select id from sp)], array[1],
                                        array['tap-os'])
      union all
      select id from shop.create_orders(array[(select id from su)], array[(select id from sa)],
                                        array[1], array[(select id from sp)], array[1],
                                        array['tap-os'])$$,
    'create_orders: a key repeated in the batch, then alone: one order, answered every time');
select results_eq($$select * from shop.update_order_status((select id from so), 'PAID', 'tap-s')$$,
    $$select * from shop.update_order_status((select id from so), 'PAID', 'tap-s')$$,
    'update_order_status: a repeat answers PAID again, not BAD_TRANSITION');
select is((select stock_quantity from shop.get_product((select id from sp))), 7,
    'stock taken once per key: 2 + 1');
create temp table sp3 on commit drop as
    select * from shop.create_product('idem tap 3', null, '2.00', 1, (select id from sc));
select lives_ok($$select shop.delete_product((select id from sp3), 'tap-dp');
                  select shop.delete_product((select id from sp3), 'tap-dp')$$,
    'delete_product: a repeat answers as the first, not PRODUCT_NOT_FOUND');
create temp table su3 on commit drop as
    select * from shop.create_user('idem_tap_3', 'idem.tap3@example.com');
select lives_ok($$select shop.delete_user((select id from su3), 'tap-dsu');
                  select shop.delete_user((select id from su3), 'tap-dsu')$$,
    'shop.delete_user: a repeat answers as the first, not USER_NOT_FOUND');
select throws_ok($$select shop.delete_user((select id from su), 'tap-dsu')$$, 'TLFP1',
    'this idempotency key was used with a different request',
    'shop.delete_user: the key with another user is IDEMPOTENCY_KEY_REUSED');

select * from finish();
rollback;
