-- reserve_seats(event_ids[], user_ids[]): reserve one seat per (event, user) pair, as one
-- statement, with an outcome row per pair (in input order). A pair either gets a booking
-- or an error: EVENT_ID_INVALID / USER_ID_INVALID (TLIA1), EVENT_NOT_FOUND (TLNF1),
-- ALREADY_BOOKED (TLAE1: the user holds a seat, or the pair came earlier in this batch),
-- SOLD_OUT (TLFP1: no free seat when its turn came; earlier pairs win).
--
-- The rules:
--   * one seat per user per event   - the unique key bookings_one_seat_per_user;
--   * never more bookings than seats - the events rows are locked (in id order, so
--     concurrent batches queue rather than deadlock) before the free seats are counted,
--     and the CHECK events_booked_seats_within_total stops any writer that gets it wrong.
-- The gRPC server sends concurrent ReserveSeat calls here together; reserve_seat is the
-- single-pair form that raises the error instead.
-- Planned for each call's arrays (force_custom_plan): a generic plan settled on while
-- batches spread over many events served a batch all on one event 2-4x slower
-- (measured: 517 against 2,074 reservations/s on one hot event after such a phase);
-- planning costs a fraction of a millisecond per batch, not per reservation.
create function booking.reserve_seats(p_event_ids bigint[], p_user_ids text[],
                                      p_idempotency_keys text[] default null,
                                      p_idempotency_scopes text[] default null)
returns table (ord integer, booking_id bigint, event_id bigint, user_id text,
               created_at timestamptz, error_sqlstate text, error_reason text,
               error_message text, error_field text)
language plpgsql
security definer
set search_path = booking, pg_temp
set plan_cache_mode = force_custom_plan
as $fn$
declare
    v_plan tally.idempotent_plan;
begin
    if p_idempotency_keys is not null then
        -- Keyed pairs (see tally._idempotent_plan): done by this function without keys,
        -- every pair at once when none is answered from its key (the usual case).
        v_plan := tally._idempotent_plan(p_idempotency_scopes, p_idempotency_keys,
                      tally._idempotent_requests('booking.reserve_seats', to_jsonb(p_event_ids), to_jsonb(p_user_ids)));
        if cardinality(v_plan.todo) = cardinality(p_event_ids) then
            return query with done as materialized (select * from booking.reserve_seats(p_event_ids, p_user_ids))
                select d.* from done d, tally._idempotent_keep(v_plan, array(select to_jsonb(e) from done e order by e.ord)) k
                 order by d.ord;
        else
            return query select x.* from jsonb_to_recordset(tally._idempotent_finish(v_plan, array(
                    select to_jsonb(f) from booking.reserve_seats(tally._pick(p_event_ids, v_plan.todo),
                                                                  tally._pick(p_user_ids, v_plan.todo)) f)))
                as x (ord integer, booking_id bigint, event_id bigint, user_id text, created_at timestamptz, error_sqlstate text, error_reason text, error_message text, error_field text)
                 order by x.ord;
        end if;
        return;
    end if;
    if cardinality(p_event_ids) is distinct from cardinality(p_user_ids) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
                                  'event_ids and user_ids must have the same length');
    end if;

    perform 1
       from booking.events e
      where e.id = any (p_event_ids)
      order by e.id
        for no key update;

    -- A new statement, so a new snapshot: it sees every booking committed before the
    -- locks above were granted.
    return query
    with req as (
        select r.ord::integer as ord, r.event_id, r.user_id
          from unnest(p_event_ids, p_user_ids) with ordinality as r (event_id, user_id, ord)
    ),
    judged as (
        select q.ord, q.event_id, q.user_id, e.total_seats - e.booked_seats as free,
               case
                   when q.event_id is null or q.event_id < 1 then 'EVENT_ID_INVALID'
                   when q.user_id is null or char_length(q.user_id) not between 1 and 255
                       then 'USER_ID_INVALID'
                   when e.id is null then 'EVENT_NOT_FOUND'
                   when exists (select 1 from booking.bookings b
                                 where b.event_id = q.event_id and b.user_id = q.user_id)
                       then 'ALREADY_BOOKED'
                   when row_number() over (partition by q.event_id, q.user_id
                                           order by q.ord) > 1
                       then 'REPEATED'
               end as reason
          from req q
          left join booking.events e on e.id = q.event_id
    ),
    placed as (
        select j.ord, j.event_id, j.user_id,
               row_number() over (partition by j.event_id order by j.ord) <= j.free as wins
          from judged j
         where j.reason is null
    ),
    ins as (
        insert into booking.bookings as b (event_id, user_id)
        select p.event_id, p.user_id
          from placed p
         where p.wins
         order by p.event_id, p.user_id
        returning b.id, b.event_id, b.user_id, b.created_at
    ),
    settled as (
        select j.ord, j.event_id, j.user_id, j.reason as first_reason,
               case
                   when j.reason is not null then j.reason
                   when p.wins then null
                   else 'SOLD_OUT'
               end as reason
          from judged j
          left join placed p on p.ord = j.ord
    ),
    outcome as (
        -- A pair repeated within the batch shares the fate of its first occurrence:
        -- ALREADY_BOOKED if that one won, the same error if it did not.
        select s.ord, s.event_id, s.user_id,
               case
                   when s.reason <> 'REPEATED' or s.reason is null then s.reason
                   else coalesce((select f.reason from settled f
                                   where f.event_id = s.event_id and f.user_id = s.user_id
                                     and f.first_reason is distinct from 'REPEATED'
                                   limit 1),
                                 'ALREADY_BOOKED')
               end as reason
          from settled s
    )
    select o.ord, ins.id, o.event_id, o.user_id, ins.created_at,
           case o.reason
               when 'EVENT_ID_INVALID' then 'TLIA1'
               when 'USER_ID_INVALID' then 'TLIA1'
               when 'EVENT_NOT_FOUND' then 'TLNF1'
               when 'ALREADY_BOOKED' then 'TLAE1'
               when 'SOLD_OUT' then 'TLFP1'
           end,
           o.reason,
           case o.reason
               when 'EVENT_ID_INVALID' then 'event_id must be a positive id'
               when 'USER_ID_INVALID' then 'user_id must be 1 to 255 characters'
               when 'EVENT_NOT_FOUND' then format('event %s not found', o.event_id)
               when 'ALREADY_BOOKED' then
                   format('user already holds a seat for event %s', o.event_id)
               when 'SOLD_OUT' then format('no seats left for event %s', o.event_id)
           end,
           case o.reason
               when 'EVENT_ID_INVALID' then 'event_id'
               when 'USER_ID_INVALID' then 'user_id'
               when 'EVENT_NOT_FOUND' then 'event_id'
               when 'ALREADY_BOOKED' then 'user_id'
               when 'SOLD_OUT' then 'event_id'
           end
      from outcome o
      left join ins on o.reason is null and ins.event_id = o.event_id
                   and ins.user_id = o.user_id
     order by o.ord;
end
$fn$;

grant execute on function booking.reserve_seats(bigint[], text[], text[], text[]) to tally_app;
