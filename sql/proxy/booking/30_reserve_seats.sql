-- reserve_seats(event_ids[], user_ids[], keys[], scopes[]), split: each partition gets the
-- pairs of the events it owns (with their keys: a key lives with the booking it guards)
-- in one call, atomic there (the rules of sql/booking/30_reserve_seats.sql hold per event,
-- and an event is on one partition), and the outcome rows come back in input order, as
-- from one database. The parts go one partition after another, each in a subtransaction
-- of its own, so that a partition that cannot be reached fails only its own pairs: they
-- get 08006 DATABASE_UNAVAILABLE rows (tally._part_unavailable), and the other
-- partitions' pairs their real outcomes. Keys are claimed on the proxy too
-- (tally._claim_part). An unreachable partition's part may still have been done there
-- (the connection broke after its commit): a retry with the same idempotency keys is
-- answered from the keys then, and done now otherwise; without keys, a retried
-- reservation answers ALREADY_BOOKED if the first one got the seat.
create or replace function booking._reserve_seats_on(
        p_partition integer, p_event_ids bigint[], p_user_ids text[],
        p_idempotency_keys text[], p_idempotency_scopes text[])
returns table (ord integer, booking_id bigint, event_id bigint, user_id text,
               created_at timestamptz, error_sqlstate text, error_reason text,
               error_message text, error_field text)
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select * from booking.reserve_seats(p_event_ids, p_user_ids, p_idempotency_keys,
                                        p_idempotency_scopes);
$fn$;

create or replace function booking.reserve_seats(p_event_ids bigint[], p_user_ids text[],
                                                 p_idempotency_keys text[] default null,
                                                 p_idempotency_scopes text[] default null)
returns table (ord integer, booking_id bigint, event_id bigint, user_id text,
               created_at timestamptz, error_sqlstate text, error_reason text,
               error_message text, error_field text)
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_partition integer;
    v_ords integer[];
    v_rows jsonb[] := '{}';
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    for v_partition, v_ords in
        select * from tally._split(p_event_ids, array[cardinality(p_user_ids)],
                                   'event_ids and user_ids', p_idempotency_keys,
                                   p_idempotency_scopes) loop
        begin
            if p_idempotency_keys is not null then
                select * into v_rows, v_ords from tally._claim_part(
                    v_rows, v_ords, p_idempotency_scopes, p_idempotency_keys,
                    tally._idempotent_requests('booking.reserve_seats', to_jsonb(tally._pick(p_event_ids, v_ords)),
                                               to_jsonb(tally._pick(p_user_ids, v_ords))),
                    array(select jsonb_build_object('event_id', p_event_ids[o], 'user_id', p_user_ids[o])
                            from unnest(v_ords) o));
                continue when cardinality(v_ords) = 0;
            end if;
            v_rows := v_rows || array(
                select to_jsonb(r) || jsonb_build_object('ord', v_ords[r.ord])
                  from booking._reserve_seats_on(
                           v_partition,
                           tally._pick(p_event_ids, v_ords),
                           tally._pick(p_user_ids, v_ords),
                           case when p_idempotency_keys is not null
                                then tally._pick(p_idempotency_keys, v_ords) end,
                           case when p_idempotency_scopes is not null
                                then tally._pick(p_idempotency_scopes, v_ords) end) r);
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
            v_rows := v_rows || tally._part_unavailable(
                v_state, v_message, v_detail, v_hint, v_column, v_ords, 'DATABASE_UNAVAILABLE',
                'database unavailable, retry later',
                array(select jsonb_build_object('event_id', p_event_ids[o], 'user_id', p_user_ids[o])
                        from unnest(v_ords) o));
        end;
    end loop;
    return query
        select x.*
          from unnest(v_rows) j
         cross join lateral jsonb_to_record(j)
               as x (ord integer, booking_id bigint, event_id bigint, user_id text,
                     created_at timestamptz, error_sqlstate text, error_reason text,
                     error_message text, error_field text)
         order by x.ord;
end
$fn$;

grant execute on function booking.reserve_seats(bigint[], text[], text[], text[]) to tally_app;
