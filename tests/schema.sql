-- The schema that `python -m server.ops.migrate` creates in an empty database, as
-- pg_dump --schema-only writes it (normalised, see tests/schema_snapshot.py).
-- Compared by tests/foundation/test_schema_snapshot.py. Do not edit: regenerate with
-- make schema-snapshot (or: python -m tests.schema_snapshot --write)
-- and review the diff with the change that caused it.

--
-- Name: booking; Type: SCHEMA; Schema: -; Owner: tally_owner
--

CREATE SCHEMA booking;

ALTER SCHEMA booking OWNER TO tally_owner;

--
-- Name: SCHEMA booking; Type: COMMENT; Schema: -; Owner: tally_owner
--

COMMENT ON SCHEMA booking IS 'Seats for events: never overbooked, one seat per user.';

--
-- Name: clicks; Type: SCHEMA; Schema: -; Owner: tally_owner
--

CREATE SCHEMA clicks;

ALTER SCHEMA clicks OWNER TO tally_owner;

--
-- Name: SCHEMA clicks; Type: COMMENT; Schema: -; Owner: tally_owner
--

COMMENT ON SCHEMA clicks IS 'Banner clicks, counted per minute; read back as per-minute statistics.';

--
-- Name: segments; Type: SCHEMA; Schema: -; Owner: tally_owner
--

CREATE SCHEMA segments;

ALTER SCHEMA segments OWNER TO tally_owner;

--
-- Name: SCHEMA segments; Type: COMMENT; Schema: -; Owner: tally_owner
--

COMMENT ON SCHEMA segments IS 'Dynamic user segments: memberships with expiry, automatic percentages, full history.';

--
-- Name: shop; Type: SCHEMA; Schema: -; Owner: tally_owner
--

CREATE SCHEMA shop;

ALTER SCHEMA shop OWNER TO tally_owner;

--
-- Name: SCHEMA shop; Type: COMMENT; Schema: -; Owner: tally_owner
--

COMMENT ON SCHEMA shop IS 'Users, products, orders (stock never negative), sales statistics, daily reports.';

--
-- Name: tally; Type: SCHEMA; Schema: -; Owner: tally_owner
--

CREATE SCHEMA tally;

ALTER SCHEMA tally OWNER TO tally_owner;

--
-- Name: SCHEMA tally; Type: COMMENT; Schema: -; Owner: tally_owner
--

COMMENT ON SCHEMA tally IS 'Shared by every domain: scheduled job runs, fencing tokens.';

--
-- Name: operation; Type: TYPE; Schema: segments; Owner: tally_owner
--

CREATE TYPE segments.operation AS ENUM (
    'add',
    'remove'
);

ALTER TYPE segments.operation OWNER TO tally_owner;

--
-- Name: order_status; Type: TYPE; Schema: shop; Owner: tally_owner
--

CREATE TYPE shop.order_status AS ENUM (
    'PENDING',
    'PAID',
    'SHIPPED',
    'DELIVERED',
    'CANCELLED'
);

ALTER TYPE shop.order_status OWNER TO tally_owner;

--
-- Name: idempotent_plan; Type: TYPE; Schema: tally; Owner: tally_owner
--

CREATE TYPE tally.idempotent_plan AS (
	scopes text[],
	keys text[],
	first_ord integer[],
	replays jsonb[],
	reasons text[],
	hashes bytea[],
	todo integer[]
);

ALTER TYPE tally.idempotent_plan OWNER TO tally_owner;

--
-- Name: cancel_booking(bigint, text, text); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.cancel_booking(p_booking_id bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    AS $$
declare
    v_event_id bigint;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'booking.cancel_booking', jsonb_build_array(p_booking_id)),
                         tally._idempotent_record(to_jsonb(booking.cancel_booking(p_booking_id)))) #>> '{}')::bigint;
    end if;
    perform tally.check_id(p_booking_id, 'booking_id');
    delete from booking.bookings b where b.id = p_booking_id returning b.event_id into v_event_id;
    if v_event_id is null then
        perform tally.raise_not_found('booking', p_booking_id);
    end if;
    return v_event_id;
end
$$;

ALTER FUNCTION booking.cancel_booking(p_booking_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: create_event(text, integer, text, text); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.create_event(p_name text, p_total_seats integer, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, name text, total_seats integer, available_seats integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    AS $$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'booking.create_event', jsonb_build_array(p_name, p_total_seats)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from booking.create_event(p_name, p_total_seats) f))))
            as x (id bigint, name text, total_seats integer, available_seats integer);
        return;
    end if;
    if p_name is null or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    if p_total_seats is null or p_total_seats < 0 then
        perform tally.raise_error('TLIA1', 'TOTAL_SEATS_INVALID', 'total_seats must be zero or more', 'total_seats');
    end if;
    return query
        insert into booking.events as e (name, total_seats)
        values (p_name, p_total_seats)
        returning e.id, e.name, e.total_seats, e.total_seats - e.booked_seats;
end
$$;

ALTER FUNCTION booking.create_event(p_name text, p_total_seats integer, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: get_booking(bigint); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.get_booking(p_booking_id bigint) RETURNS TABLE(id bigint, event_id bigint, user_id text, created_at timestamp with time zone, event_name text, total_seats integer, available_seats integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    AS $$
begin
    perform tally.check_id(p_booking_id, 'booking_id');
    return query
        select b.id, b.event_id, b.user_id, b.created_at,
               e.name, e.total_seats, e.total_seats - e.booked_seats
          from booking.bookings b
          join booking.events e on e.id = b.event_id
         where b.id = p_booking_id;
    if not found then
        perform tally.raise_not_found('booking', p_booking_id);
    end if;
end
$$;

ALTER FUNCTION booking.get_booking(p_booking_id bigint) OWNER TO tally_owner;

--
-- Name: get_event(bigint); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.get_event(p_event_id bigint) RETURNS TABLE(id bigint, name text, total_seats integer, available_seats integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    AS $$
begin
    perform tally.check_id(p_event_id, 'event_id');
    return query
        select e.id, e.name, e.total_seats, e.total_seats - e.booked_seats
          from booking.events e
         where e.id = p_event_id;
    if not found then
        perform tally.raise_not_found('event', p_event_id);
    end if;
end
$$;

ALTER FUNCTION booking.get_event(p_event_id bigint) OWNER TO tally_owner;

--
-- Name: list_events(bigint, integer); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.list_events(p_after_id bigint DEFAULT 0, p_page_size integer DEFAULT 50) RETURNS TABLE(id bigint, name text, total_seats integer, available_seats integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    AS $$
begin
    perform tally._check_page_size(p_page_size);
    return query
        select e.id, e.name, e.total_seats, e.total_seats - e.booked_seats
          from booking.events e
         where e.id > coalesce(p_after_id, 0)
         order by e.id
         limit p_page_size;
end
$$;

ALTER FUNCTION booking.list_events(p_after_id bigint, p_page_size integer) OWNER TO tally_owner;

--
-- Name: reserve_seat(bigint, text, text, text); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.reserve_seat(p_event_id bigint, p_user_id text, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, event_id bigint, user_id text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    AS $$
declare
    r record;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'booking.reserve_seat', jsonb_build_array(p_event_id, p_user_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from booking.reserve_seat(p_event_id, p_user_id) f))))
            as x (id bigint, event_id bigint, user_id text, created_at timestamptz);
        return;
    end if;
    select * into r from booking.reserve_seats(array[p_event_id], array[p_user_id]);
    if r.error_sqlstate is not null then
        perform tally.raise_error(r.error_sqlstate, r.error_reason, r.error_message,
                                  r.error_field);
    end if;
    return query select r.booking_id, r.event_id, r.user_id, r.created_at;
end
$$;

ALTER FUNCTION booking.reserve_seat(p_event_id bigint, p_user_id text, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: reserve_seats(bigint[], text[], text[], text[]); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.reserve_seats(p_event_ids bigint[], p_user_ids text[], p_idempotency_keys text[] DEFAULT NULL::text[], p_idempotency_scopes text[] DEFAULT NULL::text[]) RETURNS TABLE(ord integer, booking_id bigint, event_id bigint, user_id text, created_at timestamp with time zone, error_sqlstate text, error_reason text, error_message text, error_field text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
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
$$;

ALTER FUNCTION booking.reserve_seats(p_event_ids bigint[], p_user_ids text[], p_idempotency_keys text[], p_idempotency_scopes text[]) OWNER TO tally_owner;

--
-- Name: tg_bookings__count_seats(); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.tg_bookings__count_seats() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
    if tg_op = 'INSERT' then
        update booking.events e
           set booked_seats = e.booked_seats + d.n
          from (select event_id, count(*)::integer as n from new_rows group by event_id) d
         where e.id = d.event_id;
    elsif tg_op = 'DELETE' then
        update booking.events e
           set booked_seats = e.booked_seats - d.n
          from (select event_id, count(*)::integer as n from old_rows group by event_id) d
         where e.id = d.event_id;
    else
        update booking.events e
           set booked_seats = e.booked_seats + d.n
          from (select event_id, sum(n)::integer as n
                  from (select event_id, 1 as n from new_rows
                        union all
                        select event_id, -1 from old_rows) c
                 group by event_id) d
         where e.id = d.event_id
           and d.n <> 0;
    end if;
    return null;
end
$$;

ALTER FUNCTION booking.tg_bookings__count_seats() OWNER TO tally_owner;

--
-- Name: user_booking_stats(text); Type: FUNCTION; Schema: booking; Owner: tally_owner
--

CREATE FUNCTION booking.user_booking_stats(p_user_id text) RETURNS TABLE(user_id text, bookings_count bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'booking', 'pg_temp'
    AS $$
begin
    if p_user_id is null or char_length(p_user_id) not between 1 and 255 then
        perform tally.raise_error('TLIA1', 'USER_ID_INVALID',
                                  'user_id must be 1 to 255 characters', 'user_id');
    end if;
    return query
        select p_user_id, count(*)
          from booking.bookings b
         where b.user_id = p_user_id;
end
$$;

ALTER FUNCTION booking.user_booking_stats(p_user_id text) OWNER TO tally_owner;

--
-- Name: create_banner(text, text, text); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.create_banner(p_name text, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, name text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    AS $$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'clicks.create_banner', jsonb_build_array(p_name)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from clicks.create_banner(p_name) f))))
            as x (id bigint, name text, created_at timestamptz);
        return;
    end if;
    if p_name is null or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    return query
        insert into clicks.banners as b (name)
        values (p_name)
        returning b.id, b.name, b.created_at;
end
$$;

ALTER FUNCTION clicks.create_banner(p_name text, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: get_banner(bigint); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.get_banner(p_banner_id bigint) RETURNS TABLE(id bigint, name text, created_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    AS $$
begin
    perform tally.check_id(p_banner_id, 'banner_id');
    return query
        select b.id, b.name, b.created_at from clicks.banners b where b.id = p_banner_id;
    if not found then
        perform tally.raise_not_found('banner', p_banner_id);
    end if;
end
$$;

ALTER FUNCTION clicks.get_banner(p_banner_id bigint) OWNER TO tally_owner;

--
-- Name: ingest_clicks(bigint[], integer[], timestamp with time zone[], text, text); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.ingest_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    AS $$
declare
    bad record;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'clicks.ingest_clicks', jsonb_build_array(p_banner_ids, p_counts, p_occurred_ats)),
                         tally._idempotent_record(to_jsonb(clicks.ingest_clicks(p_banner_ids, p_counts, p_occurred_ats)))) #>> '{}')::bigint;
    end if;
    if cardinality(p_banner_ids) > 10000 then
        perform tally.raise_error('TLIA1', 'TOO_MANY_CLICKS',
                                  'at most 10000 entries per call', 'clicks');
    end if;
    -- record_clicks writes the good entries; raising below undoes them with the rest.
    select r.ord, r.error_sqlstate, r.error_reason, r.error_message, r.error_field
      into bad
      from clicks.record_clicks(
               p_banner_ids, p_counts,
               array(select coalesce(t, now()) from unnest(p_occurred_ats) with ordinality u (t, n)
                      order by n)) r
     where r.error_sqlstate is not null
     order by r.ord
     limit 1;
    if found then
        perform tally.raise_error(bad.error_sqlstate, bad.error_reason,
                                  format('clicks[%s]: %s', bad.ord - 1, bad.error_message),
                                  format('clicks[%s].%s', bad.ord - 1, bad.error_field));
    end if;
    return coalesce((select sum(c) from unnest(p_counts) c), 0);
end
$$;

ALTER FUNCTION clicks.ingest_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: list_banners(bigint, integer); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.list_banners(p_after_id bigint DEFAULT 0, p_page_size integer DEFAULT 50) RETURNS TABLE(id bigint, name text, created_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    AS $$
begin
    perform tally._check_page_size(p_page_size);
    return query
        select b.id, b.name, b.created_at
          from clicks.banners b
         where b.id > coalesce(p_after_id, 0)
         order by b.id
         limit p_page_size;
end
$$;

ALTER FUNCTION clicks.list_banners(p_after_id bigint, p_page_size integer) OWNER TO tally_owner;

--
-- Name: maintain_partitions(timestamp with time zone); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.maintain_partitions(p_at timestamp with time zone) RETURNS TABLE(action text, partition_name text, rows_affected bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    SET lock_timeout TO '2s'
    AS $_$
declare
    s          clicks.settings;
    v_first    date;
    v_last     date;
    v_keep_ts  timestamptz;
    d          date;
    v_name     text;
    v_lo       timestamptz;
    v_hi       timestamptz;
    v_rows     bigint;
    r          record;
begin
    if p_at is null or not isfinite(p_at) then
        perform tally.raise_error('TLIA1', 'AT_INVALID', 'at must be a finite time', 'at');
    end if;
    perform pg_advisory_xact_lock(hashtext('clicks.maintain_partitions'));
    select * into strict s from clicks.settings;
    v_first := ((p_at - s.minute_retention) at time zone 'UTC')::date;
    v_last := (p_at at time zone 'UTC')::date + s.partitions_ahead;
    v_keep_ts := v_first::timestamp at time zone 'UTC';

    -- Expired days first, so their rows are never moved around.
    for r in
        select c.relname::text as relname
          from pg_inherits i
          join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'clicks.minute_counts'::regclass
           and c.relname ~ '^minute_counts_p[0-9]{8}$'
           and to_date(substr(c.relname, 16), 'YYYYMMDD') < v_first
         order by 1
    loop
        execute format('alter table clicks.minute_counts detach partition clicks.%I', r.relname);
        execute format('drop table clicks.%I', r.relname);
        action := 'dropped'; partition_name := r.relname; rows_affected := null;
        return next;
    end loop;
    delete from clicks.minute_counts_default m where m.minute < v_keep_ts;
    get diagnostics v_rows = row_count;
    if v_rows > 0 then
        action := 'purged'; partition_name := 'minute_counts_default'; rows_affected := v_rows;
        return next;
    end if;

    d := v_first;
    while d <= v_last loop
        v_name := 'minute_counts_p' || to_char(d, 'YYYYMMDD');
        if to_regclass(format('clicks.%I', v_name)) is null then
            v_lo := d::timestamp at time zone 'UTC';
            v_hi := (d + 1)::timestamp at time zone 'UTC';
            -- Created apart and then attached: ATTACH needs a weaker lock on the parent
            -- than CREATE TABLE ... PARTITION OF, so writers keep going meanwhile.
            execute format('create table clicks.%I (like clicks.minute_counts including all)',
                           v_name);
            execute format(
                'with moved as (delete from clicks.minute_counts_default m'
                ' where m.minute >= $1 and m.minute < $2 returning m.banner_id, m.minute, m.clicks)'
                ' insert into clicks.%I (banner_id, minute, clicks) select * from moved', v_name)
                using v_lo, v_hi;
            get diagnostics v_rows = row_count;
            execute format('alter table clicks.minute_counts attach partition clicks.%I'
                           ' for values from (%L) to (%L)', v_name, v_lo, v_hi);
            action := 'created'; partition_name := v_name; rows_affected := null;
            return next;
            if v_rows > 0 then
                action := 'moved'; partition_name := v_name; rows_affected := v_rows;
                return next;
            end if;
        end if;
        d := d + 1;
    end loop;
end
$_$;

ALTER FUNCTION clicks.maintain_partitions(p_at timestamp with time zone) OWNER TO tally_owner;

--
-- Name: record_click(bigint, text, text); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.record_click(p_banner_id bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    AS $$
declare
    r record;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'clicks.record_click', jsonb_build_array(p_banner_id)),
                         tally._idempotent_record(to_jsonb(clicks.record_click(p_banner_id)))) #>> '{}')::timestamptz;
    end if;
    select * into r from clicks.record_clicks(array[p_banner_id], array[1], array[now()]);
    if r.error_sqlstate is not null then
        perform tally.raise_error(r.error_sqlstate, r.error_reason, r.error_message,
                                  r.error_field);
    end if;
    return r.minute;
end
$$;

ALTER FUNCTION clicks.record_click(p_banner_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: record_clicks(bigint[], integer[], timestamp with time zone[], text[], text[]); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.record_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_keys text[] DEFAULT NULL::text[], p_idempotency_scopes text[] DEFAULT NULL::text[]) RETURNS TABLE(ord integer, banner_id bigint, minute timestamp with time zone, error_sqlstate text, error_reason text, error_message text, error_field text, replayed boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
    v_plan tally.idempotent_plan;
    s clicks.settings;
begin
    if p_idempotency_keys is not null then
        -- Keyed items (see tally._idempotent_plan): done by this function without keys,
        -- every item at once when none is answered from its key (the usual case).
        v_plan := tally._idempotent_plan(p_idempotency_scopes, p_idempotency_keys,
                      tally._idempotent_requests('clicks.record_clicks', to_jsonb(p_banner_ids), to_jsonb(p_counts)));
        if cardinality(v_plan.todo) = cardinality(p_banner_ids) then
            return query with done as materialized (select * from clicks.record_clicks(p_banner_ids, p_counts, p_occurred_ats))
                select d.* from done d, tally._idempotent_keep(v_plan, array(select to_jsonb(e) from done e order by e.ord)) k
                 order by d.ord;
        else
            return query select x.* from jsonb_to_recordset(tally._idempotent_finish(v_plan, array(
                    select to_jsonb(f) from clicks.record_clicks(tally._pick(p_banner_ids, v_plan.todo),
                                                                 tally._pick(p_counts, v_plan.todo),
                                                                 tally._pick(p_occurred_ats, v_plan.todo)) f)))
                as x (ord integer, banner_id bigint, minute timestamptz, error_sqlstate text, error_reason text, error_message text, error_field text, replayed boolean)
                 order by x.ord;
        end if;
        return;
    end if;
    if cardinality(p_banner_ids) is distinct from cardinality(p_counts)
       or cardinality(p_banner_ids) is distinct from cardinality(p_occurred_ats) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
                                  'banner_ids, counts and occurred_ats must have the same length');
    end if;
    select * into strict s from clicks.settings;

    return query
    with item as (
        select r.ord::integer as ord, r.banner_id, r.count,
               date_bin('1 minute', r.occurred_at, timestamptz '2000-01-01 00:00:00+00') as minute,
               case
                   when r.banner_id is null or r.banner_id < 1 then 'BANNER_ID_INVALID'
                   when r.count is null or r.count < 1 then 'COUNT_INVALID'
                   when r.occurred_at is null or not isfinite(r.occurred_at)
                       then 'OCCURRED_AT_INVALID'
                   when r.occurred_at > now() + s.max_clock_skew then 'OCCURRED_AT_IN_FUTURE'
                   when r.occurred_at < now() - s.ingest_window then 'OCCURRED_AT_TOO_OLD'
                   when b.id is null then 'BANNER_NOT_FOUND'
               end as reason
          from unnest(p_banner_ids, p_counts, p_occurred_ats)
                   with ordinality as r (banner_id, count, occurred_at, ord)
          left join clicks.banners b on b.id = r.banner_id
    ),
    written as (
        -- Always executed (a data-modifying WITH runs whether or not it is read).
        insert into clicks.minute_counts as m (banner_id, minute, clicks)
        select i.banner_id, i.minute, sum(i.count)
          from item i
         where i.reason is null
         group by i.banner_id, i.minute
         order by i.banner_id, i.minute
            on conflict on constraint minute_counts_pkey do update set clicks = m.clicks + excluded.clicks
    )
    select i.ord, i.banner_id, case when i.reason is null then i.minute end,
           case
               when i.reason is null then null
               when i.reason = 'BANNER_NOT_FOUND' then 'TLNF1'
               else 'TLIA1'
           end,
           i.reason,
           case i.reason
               when 'BANNER_ID_INVALID' then 'banner_id must be a positive id'
               when 'COUNT_INVALID' then 'count must be at least 1'
               when 'OCCURRED_AT_INVALID' then 'occurred_at must be a finite time'
               when 'OCCURRED_AT_IN_FUTURE' then
                   format('occurred_at may be at most %s in the future', s.max_clock_skew)
               when 'OCCURRED_AT_TOO_OLD' then
                   format('occurred_at may be at most %s in the past', s.ingest_window)
               when 'BANNER_NOT_FOUND' then format('banner %s not found', i.banner_id)
           end,
           case
               when i.reason in ('BANNER_ID_INVALID', 'BANNER_NOT_FOUND') then 'banner_id'
               when i.reason = 'COUNT_INVALID' then 'count'
               when i.reason like 'OCCURRED_AT%' then 'occurred_at'
           end,
           false
      from item i
     order by i.ord;
end
$$;

ALTER FUNCTION clicks.record_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_keys text[], p_idempotency_scopes text[]) OWNER TO tally_owner;

--
-- Name: stats(bigint, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: clicks; Owner: tally_owner
--

CREATE FUNCTION clicks.stats(p_banner_id bigint, p_from timestamp with time zone, p_to timestamp with time zone) RETURNS TABLE(minute timestamp with time zone, clicks bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'clicks', 'pg_temp'
    AS $$
declare
    v_from timestamptz := date_bin('1 minute', p_from, timestamptz '2000-01-01 00:00:00+00');
    v_to   timestamptz := date_bin('1 minute', p_to, timestamptz '2000-01-01 00:00:00+00');
    v_max  interval;
begin
    perform tally.check_id(p_banner_id, 'banner_id');
    if v_from is null or not isfinite(v_from) then
        perform tally.raise_error('TLIA1', 'RANGE_INVALID', 'ts_from must be a finite time', 'ts_from');
    end if;
    if v_to is null or not isfinite(v_to) then
        perform tally.raise_error('TLIA1', 'RANGE_INVALID', 'ts_to must be a finite time', 'ts_to');
    end if;
    if v_from > v_to then
        perform tally.raise_error('TLIA1', 'RANGE_REVERSED', 'ts_from must be before ts_to', 'ts_from');
    end if;
    if v_from = v_to then
        perform tally.raise_error('TLIA1', 'RANGE_EMPTY',
                                  'ts_from and ts_to are in the same minute: the range is empty', 'ts_to');
    end if;
    select s.max_stats_range into strict v_max from clicks.settings s;
    if v_to - v_from > v_max then
        perform tally.raise_error('TLIA1', 'RANGE_TOO_LONG',
                                  format('the range may span at most %s', v_max), 'ts_to');
    end if;
    if not exists (select 1 from clicks.banners b where b.id = p_banner_id) then
        perform tally.raise_not_found('banner', p_banner_id);
    end if;
    return query
        select m.minute, m.clicks
          from clicks.minute_counts m
         where m.banner_id = p_banner_id and m.minute >= v_from and m.minute < v_to
         order by m.minute;
end
$$;

ALTER FUNCTION clicks.stats(p_banner_id bigint, p_from timestamp with time zone, p_to timestamp with time zone) OWNER TO tally_owner;

--
-- Name: _auto_bucket(bigint, text); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments._auto_bucket(p_user_id bigint, p_slug text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((((hashint8extended(p_user_id, (hashtext(p_slug))::bigint) % (10000)::bigint) + 10000) % (10000)::bigint))::integer;

ALTER FUNCTION segments._auto_bucket(p_user_id bigint, p_slug text) OWNER TO tally_owner;

--
-- Name: _auto_member(bigint, text, numeric); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments._auto_member(p_user_id bigint, p_slug text, p_auto_percent numeric) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN COALESCE(((segments._auto_bucket(p_user_id, p_slug))::numeric < (p_auto_percent * (100)::numeric)), false);

ALTER FUNCTION segments._auto_member(p_user_id bigint, p_slug text, p_auto_percent numeric) OWNER TO tally_owner;

--
-- Name: _check_slug(text, text); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments._check_slug(p_slug text, p_field text DEFAULT 'slug'::text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
begin
    if p_slug is null or p_slug !~ '^[A-Za-z0-9_.-]{1,128}$' then
        perform tally.raise_error('TLIA1', 'SLUG_INVALID',
            format('slug %s must be 1 to 128 characters of A-Z a-z 0-9 _ . -',
                   coalesce(quote_literal(left(p_slug, 140)), 'null')),
            p_field);
    end if;
end
$_$;

ALTER FUNCTION segments._check_slug(p_slug text, p_field text) OWNER TO tally_owner;

--
-- Name: _derived_adds(timestamp with time zone, timestamp with time zone, bigint); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments._derived_adds(p_from timestamp with time zone, p_to timestamp with time zone, p_user_id bigint DEFAULT NULL::bigint) RETURNS TABLE(user_id bigint, segment_id bigint, slug text, at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
    select u.id, s.id, s.slug, s.created_at
      from segments.segments s
      join segments.users u
        on u.created_at <= s.created_at and u.deleted_at is null
     where s.adds_derived and s.auto_percent > 0
       and s.created_at >= p_from and s.created_at < p_to
       and (p_user_id is null or u.id = p_user_id)
       and segments._auto_member(u.id, s.slug, s.auto_percent)
$$;

ALTER FUNCTION segments._derived_adds(p_from timestamp with time zone, p_to timestamp with time zone, p_user_id bigint) OWNER TO tally_owner;

--
-- Name: _derived_memberships(); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments._derived_memberships() RETURNS TABLE(user_id bigint, segment_id bigint, slug text, added_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
    select u.id, s.id, s.slug, greatest(u.created_at, s.created_at)
      from segments.segments s
      join segments.users u on u.deleted_at is null
     where s.deleted_at is null and s.auto_percent > 0
       and segments._auto_member(u.id, s.slug, s.auto_percent)
       and not exists (select 1 from segments.memberships m
                        where m.user_id = u.id and m.segment_id = s.id)
       and not exists (select 1 from segments.opt_outs o
                        where o.user_id = u.id and o.segment_id = s.id)
$$;

ALTER FUNCTION segments._derived_memberships() OWNER TO tally_owner;

--
-- Name: _end_expired(bigint[], timestamp with time zone); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments._end_expired(p_user_ids bigint[], p_now timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
    v_count bigint;
begin
    with doomed as (
        select m.user_id, m.segment_id
          from segments.memberships m
         where m.user_id = any (p_user_ids) and m.expires_at <= p_now
           for update skip locked
    ),
    ended as (
        delete from segments.memberships m
         using doomed d
         where m.user_id = any (p_user_ids)  -- by the index, whatever the statistics say
           and m.user_id = d.user_id and m.segment_id = d.segment_id
        returning m.user_id, m.segment_id, m.expires_at
    ),
    gone as (
        select e.user_id, e.segment_id, e.expires_at, s.slug,
               s.deleted_at is null
               and segments._auto_member(e.user_id, s.slug, s.auto_percent) as auto
          from ended e join segments.segments s on s.id = e.segment_id
    ),
    opted_out as (
        insert into segments.opt_outs (user_id, segment_id)
        select g.user_id, g.segment_id from gone g where g.auto
        on conflict do nothing
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select g.user_id, g.segment_id, g.slug, 'remove', g.expires_at
          from gone g
         order by g.expires_at, g.user_id, g.segment_id
        returning 1
    )
    select count(*) into v_count from logged;
    return v_count;
end
$$;

ALTER FUNCTION segments._end_expired(p_user_ids bigint[], p_now timestamp with time zone) OWNER TO tally_owner;

--
-- Name: _lock_user(bigint); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments._lock_user(p_user_id bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
    perform 1 from segments.users u
     where u.id = p_user_id and u.deleted_at is null
       for no key update;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
end
$$;

ALTER FUNCTION segments._lock_user(p_user_id bigint) OWNER TO tally_owner;

--
-- Name: create_segment(text, numeric, text, text); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.create_segment(p_slug text, p_auto_percent numeric DEFAULT NULL::numeric, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, slug text, auto_percent numeric, created_at timestamp with time zone, auto_members bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_id bigint;
    v_created_at timestamptz;
    v_members bigint := 0::bigint;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.create_segment', jsonb_build_array(p_slug, p_auto_percent)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from segments.create_segment(p_slug, p_auto_percent) f))))
            as x (id bigint, slug text, auto_percent numeric, created_at timestamptz, auto_members bigint);
        return;
    end if;
    perform segments._check_slug(p_slug);
    if p_auto_percent is not null
       and (p_auto_percent not between 0 and 100 or p_auto_percent <> round(p_auto_percent, 2)) then
        perform tally.raise_error('TLIA1', 'AUTO_PERCENT_INVALID',
            'auto_percent must be 0 to 100 with at most two decimals', 'auto_percent');
    end if;

    if p_auto_percent > 0 then
        -- No user may be created or deleted until this commits: SHARE conflicts with
        -- create_user's and delete_user's ROW EXCLUSIVE, and waits for those in flight.
        -- So created_at below is later than every user created or deleted before, and
        -- earlier than every one after: the users present at this segment's creation
        -- (whose 'add' rows _derived_adds derives) are exactly those with
        -- users.created_at <= created_at still live, and every later user meets this
        -- segment in create_user.
        lock table segments.users in share mode;
    end if;

    insert into segments.segments as s (slug, auto_percent, created_at, adds_derived)
    values (p_slug, p_auto_percent, clock_timestamp(), true)
    on conflict (slug) where deleted_at is null do nothing
    returning s.id, s.created_at into v_id, v_created_at;
    if v_id is null then
        perform tally.raise_error('TLAE1', 'SLUG_TAKEN',
                                  format('segment %s already exists', p_slug), 'slug');
    end if;

    if p_auto_percent > 0 then
        select count(*) into v_members
          from segments.users u
         where u.deleted_at is null
           and segments._auto_member(u.id, p_slug, p_auto_percent);
    end if;

    return query select v_id, p_slug, p_auto_percent, v_created_at, v_members;
end
$$;

ALTER FUNCTION segments.create_segment(p_slug text, p_auto_percent numeric, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: create_user(bigint, text, text); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.create_user(p_user_id bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(user_id bigint, created_at timestamp with time zone, created boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_created_at timestamptz;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.create_user', jsonb_build_array(p_user_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from segments.create_user(p_user_id) f))))
            as x (user_id bigint, created_at timestamptz, created boolean);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    -- ROW EXCLUSIVE on users: waits for a create_segment of an automatic segment (it
    -- holds SHARE until it commits), so this user's created_at is later than that
    -- segment's, and the segment is visible to the statement below. A user inserted while
    -- no such segment was being created is older than any segment created after.
    insert into segments.users as u (id, created_at)
    values (p_user_id, clock_timestamp())
    on conflict on constraint users_pkey do update
        set created_at = clock_timestamp(), deleted_at = null
        where u.deleted_at is not null
    returning u.created_at into v_created_at;

    if v_created_at is null then  -- already there and live
        return query select u.id, u.created_at, false from segments.users u
                      where u.id = p_user_id;
        return;
    end if;

    -- The automatic segments, locked FOR SHARE against a concurrent delete_segment
    -- (which takes them FOR UPDATE): it then either counts this user among the members
    -- it ends, or this skips the segment it deleted.
    insert into segments.history (user_id, segment_id, slug, operation, at)
    select p_user_id, a.id, a.slug, 'add', v_created_at
      from (select s.id, s.slug
              from segments.segments s
             where s.deleted_at is null and s.auto_percent > 0
               and segments._auto_member(p_user_id, s.slug, s.auto_percent)
             order by s.id
               for share) a
     order by a.id;

    return query select p_user_id, v_created_at, true;
end
$$;

ALTER FUNCTION segments.create_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: delete_segment(text, text, text); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.delete_segment(p_slug text, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
declare
    v_id bigint;
    v_auto_percent numeric;
    v_now timestamptz;
    v_derived bigint := 0::bigint;
    v_explicit bigint;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.delete_segment', jsonb_build_array(p_slug)),
                         tally._idempotent_record(to_jsonb(segments.delete_segment(p_slug)))) #>> '{}')::bigint;
    end if;
    perform segments._check_slug(p_slug);
    -- The row lock conflicts with the FOR SHARE that update_user_segments, create_user
    -- and delete_user take on a segment before they add to it or end its memberships, so
    -- the members read below stay as read until this commits. "Now" is read only once
    -- it is held: an UPDATE that waited for a FOR SHARE would keep the time from before
    -- the wait, and date the removals before the adds it waited for.
    select s.id, s.auto_percent into v_id, v_auto_percent from segments.segments s
     where s.slug = p_slug and s.deleted_at is null
       for update;
    if v_id is null then
        perform tally.raise_error('TLNF1', 'SEGMENT_NOT_FOUND',
                                  format('segment %s not found', p_slug), 'slug');
    end if;
    v_now := clock_timestamp();

    -- Derived members (_derived_memberships) first, while the segment is live and the
    -- explicit rows are still there to tell them apart.
    if v_auto_percent > 0 then
        with logged as (
            insert into segments.history (user_id, segment_id, slug, operation, at)
            select d.user_id, v_id, p_slug, 'remove', v_now
              from segments._derived_memberships() d
             where d.segment_id = v_id
            returning 1
        )
        select count(*) into v_derived from logged;
        delete from segments.opt_outs o where o.segment_id = v_id;
    end if;
    update segments.segments s set deleted_at = v_now where s.id = v_id;

    with ended as (
        delete from segments.memberships m
         where m.segment_id = v_id
        returning m.user_id, m.expires_at
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select e.user_id, v_id, p_slug, 'remove', least(e.expires_at, v_now)
          from ended e
        returning 1
    )
    select count(*) into v_explicit from logged;
    return v_derived + v_explicit;
end
$$;

ALTER FUNCTION segments.delete_segment(p_slug text, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: delete_user(bigint, text, text); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.delete_user(p_user_id bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
declare
    v_now timestamptz;
    v_count integer;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.delete_user', jsonb_build_array(p_user_id)),
                         tally._idempotent_record(to_jsonb(segments.delete_user(p_user_id)))) #>> '{}')::integer;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    perform segments._lock_user(p_user_id);
    -- The lock the UPDATE below needs, taken now: it waits for a create_segment of an
    -- automatic segment (SHARE), so that segment is visible here and dated before this
    -- deletion; one that starts later waits for this one to commit.
    lock table segments.users in row exclusive mode;
    -- The live automatic segments the user's bucket falls into, FOR SHARE (in id order)
    -- against a concurrent delete_segment: one of the two ends each derived membership.
    perform s.id from segments.segments s
     where s.deleted_at is null and s.auto_percent > 0
       and segments._auto_member(p_user_id, s.slug, s.auto_percent)
     order by s.id
       for share;
    -- Lock first, then read the time (see delete_segment: an UPDATE that waits keeps
    -- the time from before the wait).
    v_now := clock_timestamp();

    insert into segments.history (user_id, segment_id, slug, operation, at)
    select d.user_id, d.segment_id, d.slug, 'add', d.at
      from segments._derived_adds('-infinity', 'infinity', p_user_id) d
     order by d.at, d.segment_id;

    -- The memberships end while the user is still live: its derived ones are read
    -- (_derived_memberships) in the statement that deletes its rows, as they were before.
    with ended as (
        delete from segments.memberships m
         where m.user_id = p_user_id
        returning m.segment_id, least(m.expires_at, v_now) as at
    ),
    derived as (
        select d.segment_id, v_now as at
          from segments._derived_memberships() d
         where d.user_id = p_user_id
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select p_user_id, g.segment_id, s.slug, 'remove', g.at
          from (select * from ended union all select * from derived) g
          join segments.segments s on s.id = g.segment_id
         order by g.at, s.slug
        returning 1
    )
    select count(*)::integer into v_count from logged;
    update segments.users u set deleted_at = v_now where u.id = p_user_id;
    delete from segments.opt_outs o where o.user_id = p_user_id;
    return v_count;
end
$$;

ALTER FUNCTION segments.delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: expire_memberships(timestamp with time zone, integer); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.expire_memberships(p_scheduled_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_max_users integer DEFAULT 50000) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
declare
    v_users bigint[];
    v_now timestamptz;
begin
    -- The user lock keeps this from ending a membership that update_user_segments (which
    -- holds it) is re-adding with a new expiry.
    select array_agg(u.id) into v_users
      from (select u.id from segments.users u
             where u.id in (select m.user_id from segments.memberships m
                             where m.expires_at <= clock_timestamp())
             order by u.id
             limit p_max_users
               for no key update skip locked) u;
    if v_users is null then
        return 0::bigint;
    end if;
    v_now := clock_timestamp();

    return segments._end_expired(v_users, v_now);
end
$$;

ALTER FUNCTION segments.expire_memberships(p_scheduled_at timestamp with time zone, p_max_users integer) OWNER TO tally_owner;

--
-- Name: export_history(integer, integer, bigint); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.export_history(p_year integer, p_month integer, p_user_id bigint DEFAULT NULL::bigint) RETURNS TABLE(user_id bigint, segment text, operation text, datetime text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
#variable_conflict use_column
declare
    v_now timestamptz := clock_timestamp();
    v_from timestamptz;
    v_to timestamptz;
begin
    if p_year is null or p_year not between 1 and 9999 then
        perform tally.raise_error('TLIA1', 'YEAR_INVALID', 'year must be 1 to 9999', 'year');
    end if;
    if p_month is null or p_month not between 1 and 12 then
        perform tally.raise_error('TLIA1', 'MONTH_INVALID', 'month must be 1 to 12', 'month');
    end if;
    if p_user_id is not null then
        perform tally.check_id(p_user_id, 'user_id');
        if not exists (select 1 from segments.users u where u.id = p_user_id) then
            perform tally.raise_not_found('user', p_user_id);
        end if;
    end if;
    v_from := make_timestamptz(p_year, p_month, 1, 0, 0, 0, 'UTC');
    v_to := v_from + interval '1 month';

    return query
        select e.user_id, e.slug, e.operation::text,
               to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
          from (select d.user_id, d.slug, 'add'::segments.operation as operation, d.at,
                       0 as source, d.segment_id as k1, d.user_id as k2
                  from segments._derived_adds(v_from, v_to, p_user_id) d
                union all
                select h.user_id, h.slug, h.operation, h.at, 1, h.id, 0
                  from segments.history h
                 where h.at >= v_from and h.at < v_to
                   and (p_user_id is null or h.user_id = p_user_id)
                union all
                select m.user_id, s.slug, 'remove', m.expires_at, 2, m.segment_id, m.user_id
                  from segments.memberships m
                  join segments.segments s on s.id = m.segment_id
                 where m.expires_at >= v_from and m.expires_at < v_to
                   and m.expires_at <= v_now
                   and (p_user_id is null or m.user_id = p_user_id)) e
         order by e.at, e.source, e.k1, e.k2;
end
$$;

ALTER FUNCTION segments.export_history(p_year integer, p_month integer, p_user_id bigint) OWNER TO tally_owner;

--
-- Name: update_user_segments(bigint, text[], text[], timestamp with time zone[], interval[], text, text); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.update_user_segments(p_user_id bigint, p_add_slugs text[] DEFAULT '{}'::text[], p_remove_slugs text[] DEFAULT '{}'::text[], p_add_expires_at timestamp with time zone[] DEFAULT NULL::timestamp with time zone[], p_add_ttls interval[] DEFAULT NULL::interval[], p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(operation text, slug text, expires_at timestamp with time zone, changed boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $_$
#variable_conflict use_column
declare
    v_add text[] := coalesce(p_add_slugs, '{}');
    v_remove text[] := coalesce(p_remove_slugs, '{}');
    v_n integer := cardinality(coalesce(p_add_slugs, '{}'));
    v_now timestamptz;
    v_bad text;
    v_ord integer;
    v_field text := 'add';
    v_found bigint;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.update_user_segments', jsonb_build_array(p_user_id, p_add_slugs, p_remove_slugs, p_add_expires_at, p_add_ttls)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from segments.update_user_segments(p_user_id, p_add_slugs, p_remove_slugs, p_add_expires_at, p_add_ttls) f))))
            as x (operation text, slug text, expires_at timestamptz, changed boolean);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    if (p_add_expires_at is not null and cardinality(p_add_expires_at) <> v_n)
       or (p_add_ttls is not null and cardinality(p_add_ttls) <> v_n) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'add_expires_at and add_ttls must be as long as add_slugs', 'add');
    end if;
    -- Every check below is one pass over the input, a grouping or a set operation (hashed),
    -- so a call costs time linear in its slugs, never a slug compared with every other:
    -- a join of two unnest()s would be planned as a nested loop (they are estimated at a
    -- few rows each), 20,000 x 20,000 comparisons.
    select r.slug, r.ord::integer into v_bad, v_ord
      from unnest(v_add || v_remove) with ordinality as r (slug, ord)
     where r.slug is null or r.slug !~ '^[A-Za-z0-9_.-]{1,128}$'
     order by r.ord limit 1;
    if found then  -- _check_slug raises its error, naming the list
        perform segments._check_slug(v_bad, case when v_ord <= v_n then 'add' else 'remove' end);
    end if;
    select a into v_bad from unnest(v_add) a group by a having count(*) > 1 limit 1;
    if v_bad is null then
        select r into v_bad from unnest(v_remove) r group by r having count(*) > 1 limit 1;
        v_field := 'remove';
    end if;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'SLUG_REPEATED',
                                  format('segment %s is listed twice', v_bad), v_field);
    end if;
    select b.slug into v_bad
      from (select unnest(v_add) intersect select unnest(v_remove)) as b (slug)
     limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'SLUG_IN_ADD_AND_REMOVE',
            format('segment %s is both added and removed', v_bad), 'remove');
    end if;
    select r.slug into v_bad
      from unnest(v_add, p_add_expires_at, p_add_ttls) with ordinality as r (slug, expires_at, ttl, ord)
     where r.expires_at is not null and r.ttl is not null
     order by r.ord limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'EXPIRY_AMBIGUOUS',
            format('segment %s has both expires_at and ttl', v_bad), 'add');
    end if;
    select r.slug into v_bad
      from unnest(v_add, p_add_ttls) with ordinality as r (slug, ttl, ord)
     where r.ttl <= interval '0'
     order by r.ord limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'TTL_INVALID',
            format('ttl of segment %s must be positive', v_bad), 'add');
    end if;

    perform segments._lock_user(p_user_id);

    -- The segments, locked FOR SHARE in id order against a concurrent delete_segment
    -- (re-checked after any wait: a segment deleted meanwhile is then not found). While
    -- they are locked no live segment of these slugs can end or appear, so below they
    -- are read again by slug (joins of the input with the table: an index lookup or a
    -- hash per slug, never a slug compared with every other).
    select count(*) into v_found
      from (select s.id
              from segments.segments s
              join unnest(v_add || v_remove) as q (slug) on q.slug = s.slug
             where s.deleted_at is null
             order by s.id
               for share of s) l;
    if v_found < v_n + cardinality(v_remove) then
        select r.slug, r.ord::integer into v_bad, v_ord
          from unnest(v_add || v_remove) with ordinality as r (slug, ord)
          left join segments.segments s on s.slug = r.slug and s.deleted_at is null
         where s.id is null
         order by r.ord limit 1;
        perform tally.raise_error('TLNF1', 'SEGMENT_NOT_FOUND',
            format('segment %s not found', v_bad),
            case when v_ord <= v_n then 'add' else 'remove' end);
    end if;

    v_now := clock_timestamp();
    select r.slug into v_bad
      from unnest(v_add, p_add_expires_at) as r (slug, expires_at)
     where r.expires_at <= v_now limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'EXPIRES_AT_IN_PAST',
            format('expiry of segment %s is not in the future', v_bad), 'add');
    end if;
    -- Clients (protobuf Timestamp, most languages' date types) end at year 9999.
    select r.slug into v_bad
      from unnest(v_add, p_add_expires_at, p_add_ttls) as r (slug, expires_at, ttl)
     where coalesce(r.expires_at, v_now + r.ttl) >= timestamptz '10000-01-01 00:00:00+00'
     limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'EXPIRY_OUT_OF_RANGE',
            format('expiry of segment %s must be before the year 10000', v_bad), 'add');
    end if;

    -- From here on nothing fails: changes only.
    -- 1. This user's memberships that have expired end now, dated at their expiry, so
    --    below they count as absent (a re-add is a new membership). Where the automatic
    --    share holds the user, an opt-out keeps the segment from coming back.
    perform segments._end_expired(array[p_user_id], v_now);

    -- 2. Removals and adds (disjoint sets of segments), with their history, in one
    --    statement (a data-modifying WITH runs to completion whether or not it is read).
    --    had: what the user had of each segment before - 'explicit' (an active row),
    --    'derived' (_derived_memberships, with its added_at), 'opted_out' (the share
    --    holds the user, who ended it) or 'none'. Nobody else changes these rows
    --    meanwhile: the user's row and the segments are locked.
    return query
    with req as (
        select r.ord::integer as ord, r.slug, true as is_add, s.id as segment_id,
               coalesce(r.expires_at, v_now + r.ttl) as expires_at,
               segments._auto_member(p_user_id, s.slug, s.auto_percent) as auto
          from unnest(v_add,
                      coalesce(p_add_expires_at, array_fill(null::timestamptz, array[v_n])),
                      coalesce(p_add_ttls, array_fill(null::interval, array[v_n])))
               with ordinality as r (slug, expires_at, ttl, ord)
          join segments.segments s on s.slug = r.slug and s.deleted_at is null
        union all
        select v_n + r.ord::integer, r.slug, false, s.id, null,
               segments._auto_member(p_user_id, s.slug, s.auto_percent)
          from unnest(v_remove) with ordinality as r (slug, ord)
          join segments.segments s on s.slug = r.slug and s.deleted_at is null
    ),
    st as (
        select q.*,
               case when exists (select 1 from segments.memberships m
                                  where m.user_id = p_user_id
                                    and m.segment_id = q.segment_id) then 'explicit'
                    when q.derived_added_at is not null then 'derived'
                    when exists (select 1 from segments.opt_outs o
                                  where o.user_id = p_user_id
                                    and o.segment_id = q.segment_id) then 'opted_out'
                    else 'none'
               end as had
          from (select r.*,
                       (select d.added_at from segments._derived_memberships() d
                         where d.user_id = p_user_id
                           and d.segment_id = r.segment_id) as derived_added_at
                  from req r) q
    ),
    removed as (
        delete from segments.memberships m
         using st
         where not st.is_add and st.had = 'explicit'
           and m.user_id = p_user_id and m.segment_id = st.segment_id
    ),
    opted_out as (
        insert into segments.opt_outs (user_id, segment_id)
        select p_user_id, st.segment_id
          from st
         where not st.is_add and st.auto and st.had in ('explicit', 'derived')
        on conflict do nothing
    ),
    opted_in as (
        delete from segments.opt_outs o
         using st
         where st.is_add and st.had = 'opted_out'
           and o.user_id = p_user_id and o.segment_id = st.segment_id
    ),
    upserted as (
        -- A derived membership needs a row only to carry an expiry; it keeps its added_at.
        insert into segments.memberships as m (user_id, segment_id, expires_at, added_at)
        select p_user_id, st.segment_id, st.expires_at,
               case when st.had = 'derived' then st.derived_added_at else v_now end
          from st
         where st.is_add and (st.had <> 'derived' or st.expires_at is not null)
         order by st.segment_id
        on conflict on constraint memberships_pkey
            do update set expires_at = excluded.expires_at
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select p_user_id, st.segment_id, st.slug,
               case when st.is_add then 'add' else 'remove' end::segments.operation, v_now
          from st
         where st.is_add = (st.had in ('none', 'opted_out'))
         order by st.ord
    )
    select case when st.is_add then 'add' else 'remove' end, st.slug, st.expires_at,
           st.is_add = (st.had in ('none', 'opted_out'))
      from st
     order by st.ord;
end
$_$;

ALTER FUNCTION segments.update_user_segments(p_user_id bigint, p_add_slugs text[], p_remove_slugs text[], p_add_expires_at timestamp with time zone[], p_add_ttls interval[], p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: update_user_segments_batch(bigint[], integer[], text[], boolean[], timestamp with time zone[], interval[], text[], text[]); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.update_user_segments_batch(p_user_ids bigint[], p_slug_items integer[], p_slugs text[], p_is_adds boolean[], p_expires_ats timestamp with time zone[] DEFAULT NULL::timestamp with time zone[], p_ttls interval[] DEFAULT NULL::interval[], p_idempotency_keys text[] DEFAULT NULL::text[], p_idempotency_scopes text[] DEFAULT NULL::text[]) RETURNS TABLE(ord integer, operation text, slug text, expires_at timestamp with time zone, changed boolean, error_sqlstate text, error_reason text, error_message text, error_field text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
declare
    r record;
    v_state text;
    v_message text;
    v_detail text;
    v_field text;
    v_hint text;
begin
    if cardinality(p_slug_items) is distinct from cardinality(p_slugs)
       or cardinality(p_is_adds) is distinct from cardinality(p_slugs)
       or (p_expires_ats is not null and cardinality(p_expires_ats) <> cardinality(p_slugs))
       or (p_ttls is not null and cardinality(p_ttls) <> cardinality(p_slugs))
       or (p_idempotency_keys is not null
           and cardinality(p_idempotency_keys) <> cardinality(p_user_ids))
       or (p_idempotency_scopes is not null
           and cardinality(p_idempotency_scopes) <> cardinality(p_user_ids)) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'slug_items, slugs, is_adds, expires_ats and ttls must have one entry per slug,'
            ' idempotency_keys and idempotency_scopes one per user_id');
    end if;
    for r in
        with entry as (
            select e.item, e.slug, e.is_add, e.expires_at, e.ttl, e.n
              from unnest(p_slug_items, p_slugs, p_is_adds,
                          coalesce(p_expires_ats, array_fill(null::timestamptz, array[cardinality(p_slugs)])),
                          coalesce(p_ttls, array_fill(null::interval, array[cardinality(p_slugs)])))
                   with ordinality as e (item, slug, is_add, expires_at, ttl, n)
        ),
        per_item as (
            select e.item,
                   array_agg(e.slug order by e.n) filter (where e.is_add) as adds,
                   array_agg(e.expires_at order by e.n) filter (where e.is_add) as expires_ats,
                   array_agg(e.ttl order by e.n) filter (where e.is_add) as ttls,
                   array_agg(e.slug order by e.n) filter (where not e.is_add) as removes
              from entry e
             group by e.item
        )
        select i.n::integer as n, i.user_id, i.key, i.scope,
               coalesce(p.adds, '{}') as adds, coalesce(p.removes, '{}') as removes,
               coalesce(p.expires_ats, '{}') as expires_ats, coalesce(p.ttls, '{}') as ttls
          from unnest(p_user_ids,
                      coalesce(p_idempotency_keys, array_fill(null::text, array[cardinality(p_user_ids)])),
                      coalesce(p_idempotency_scopes, array_fill(''::text, array[cardinality(p_user_ids)])))
               with ordinality as i (user_id, key, scope, n)
          left join per_item p on p.item = i.n
         order by i.user_id, i.n
    loop
        begin
            return query
                select r.n, u.operation, u.slug, u.expires_at, u.changed,
                       null::text, null::text, null::text, null::text
                  from segments.update_user_segments(r.user_id, r.adds, r.removes, r.expires_ats,
                                                     r.ttls, r.key, coalesce(r.scope, '')) u;
        exception when sqlstate 'TL000' then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                                    v_detail = pg_exception_detail, v_field = column_name,
                                    v_hint = pg_exception_hint;
            perform tally._remember_failure(v_state, v_detail, v_message, nullif(v_field, ''),
                                            nullif(v_hint, ''));
            return query select r.n, null::text, null::text, null::timestamptz, null::boolean,
                                v_state, v_detail, v_message, nullif(v_field, '');
        end;
    end loop;
end
$$;

ALTER FUNCTION segments.update_user_segments_batch(p_user_ids bigint[], p_slug_items integer[], p_slugs text[], p_is_adds boolean[], p_expires_ats timestamp with time zone[], p_ttls interval[], p_idempotency_keys text[], p_idempotency_scopes text[]) OWNER TO tally_owner;

--
-- Name: user_segments(bigint); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.user_segments(p_user_id bigint) RETURNS TABLE(slug text, expires_at timestamp with time zone, added_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_now timestamptz := clock_timestamp();
begin
    perform tally.check_id(p_user_id, 'user_id');
    perform 1 from segments.users u
     where u.id = p_user_id and u.deleted_at is null;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
    -- A stable function: this reads the same snapshot as the check above.
    return query
        select x.slug, x.expires_at, x.added_at
          from (select s.slug, m.expires_at, m.added_at
                  from segments.memberships m
                  join segments.segments s on s.id = m.segment_id
                 where m.user_id = p_user_id
                   and (m.expires_at is null or m.expires_at > v_now)
                union all
                select d.slug, null, d.added_at
                  from segments._derived_memberships() d
                 where d.user_id = p_user_id) x
         order by x.slug collate "C";
end
$$;

ALTER FUNCTION segments.user_segments(p_user_id bigint) OWNER TO tally_owner;

--
-- Name: user_segments_batch(bigint[]); Type: FUNCTION; Schema: segments; Owner: tally_owner
--

CREATE FUNCTION segments.user_segments_batch(p_user_ids bigint[]) RETURNS TABLE(ord integer, slug text, expires_at timestamp with time zone, added_at timestamp with time zone, error_sqlstate text, error_reason text, error_message text, error_field text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'segments', 'pg_temp'
    AS $$
declare
    v_state text;
    v_message text;
    v_detail text;
    v_field text;
begin
    for i in 1 .. coalesce(cardinality(p_user_ids), 0) loop
        begin
            return query
                select i, s.slug, s.expires_at, s.added_at,
                       null::text, null::text, null::text, null::text
                  from segments.user_segments(p_user_ids[i]) s;
        exception when sqlstate 'TL000' then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                                    v_detail = pg_exception_detail, v_field = column_name;
            return query select i, null::text, null::timestamptz, null::timestamptz,
                                v_state, v_detail, v_message, nullif(v_field, '');
        end;
    end loop;
end
$$;

ALTER FUNCTION segments.user_segments_batch(p_user_ids bigint[]) OWNER TO tally_owner;

--
-- Name: _check_orders(bigint[], bigint[], integer[], bigint[], integer[]); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._check_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]) RETURNS TABLE(ord integer, error_sqlstate text, error_reason text, error_message text, error_field text)
    LANGUAGE plpgsql STABLE
    AS $$
begin
    return query
    with req as (
        select r.ord::integer as ord, r.user_id, r.address_id
          from unnest(p_user_ids, p_delivery_address_ids) with ordinality r (user_id, address_id, ord)
    ),
    per_product as (
        select l.o, count(*) as n, sum(l.quantity) as q,
               bool_or(l.product_id is null or l.product_id < 1) as bad_product,
               bool_or(l.quantity is null or l.quantity < 1) as bad_quantity
          from unnest(p_line_orders, p_product_ids, p_quantities) l (o, product_id, quantity)
         where l.o between 1 and coalesce(cardinality(p_user_ids), 0)
         group by l.o, l.product_id
    ),
    per_order as (
        select x.o, sum(x.n) as n, bool_or(x.bad_product) as bad_product,
               bool_or(x.bad_quantity) as bad_quantity, bool_or(x.q > 2147483647) as too_large
          from per_product x
         group by x.o
    ),
    judged as (
        select q.ord, q.user_id, q.address_id,
               case
                   when q.user_id is null or q.user_id < 1 then 'USER_ID_INVALID'
                   when q.address_id is null or q.address_id < 1 then 'ADDRESS_ID_INVALID'
                   when coalesce(n.n, 0) < 1 then 'ITEMS_EMPTY'
                   when n.n > 100 then 'TOO_MANY_ITEMS'
                   when n.bad_product then 'PRODUCT_ID_INVALID'
                   when n.bad_quantity then 'QUANTITY_INVALID'
                   when n.too_large then 'QUANTITY_TOO_LARGE'
                   -- The address is the user's (its foreign key guarantees the user
                   -- exists): one lookup for a valid order, a second one only to tell
                   -- which of the two is missing.
                   when a.id is null
                       then case when exists (select 1 from shop.users u where u.id = q.user_id)
                                 then 'ADDRESS_NOT_FOUND' else 'USER_NOT_FOUND' end
               end as reason
          from req q
          left join per_order n on n.o = q.ord
          left join shop.addresses a on a.id = q.address_id and a.user_id = q.user_id
    )
    select j.ord,
           case when j.reason like '%_NOT_FOUND' then 'TLNF1'
                when j.reason is not null then 'TLIA1' end,
           case when j.reason = 'QUANTITY_TOO_LARGE' then 'QUANTITY_INVALID' else j.reason end,
           case j.reason
               when 'USER_ID_INVALID' then 'user_id must be a positive id'
               when 'ADDRESS_ID_INVALID' then 'delivery_address_id must be a positive id'
               when 'ITEMS_EMPTY' then
                   'an order needs 1 to 100 items, each with a product and a quantity'
               when 'TOO_MANY_ITEMS' then 'an order has at most 100 items'
               when 'PRODUCT_ID_INVALID' then 'product_id must be a positive id'
               when 'QUANTITY_INVALID' then 'quantity must be 1 or more'
               when 'QUANTITY_TOO_LARGE' then 'quantity is too large'
               when 'USER_NOT_FOUND' then format('user %s not found', j.user_id)
               when 'ADDRESS_NOT_FOUND' then
                   format('address %s of user %s not found', j.address_id, j.user_id)
           end,
           case j.reason
               when 'USER_ID_INVALID' then 'user_id'
               when 'USER_NOT_FOUND' then 'user_id'
               when 'ADDRESS_ID_INVALID' then 'delivery_address_id'
               when 'ADDRESS_NOT_FOUND' then 'delivery_address_id'
               when 'ITEMS_EMPTY' then 'items'
               when 'TOO_MANY_ITEMS' then 'items'
               when 'PRODUCT_ID_INVALID' then 'items.product_id'
               when 'QUANTITY_INVALID' then 'items.quantity'
               when 'QUANTITY_TOO_LARGE' then 'items.quantity'
           end
      from judged j
     order by j.ord;
end
$$;

ALTER FUNCTION shop._check_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]) OWNER TO tally_owner;

--
-- Name: _check_page(integer, integer); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._check_page(p_count integer, p_page integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
begin
    if p_count is null or p_count not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'COUNT_INVALID', 'count must be 1 to 100', 'count');
    end if;
    if p_page is null or p_page < 1 or p_page > 1000000 then
        perform tally.raise_error('TLIA1', 'PAGE_INVALID', 'page must be 1 to 1000000', 'page');
    end if;
end
$$;

ALTER FUNCTION shop._check_page(p_count integer, p_page integer) OWNER TO tally_owner;

--
-- Name: _check_product(text, text, numeric, integer, bigint, boolean); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._check_product(p_name text, p_description text, p_price numeric, p_stock integer, p_category_id bigint, p_new boolean) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
begin
    if (p_new and p_name is null) or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    if p_new and p_price is null then
        perform tally.raise_error('TLIA1', 'PRICE_INVALID', 'price is required, like "12.50"', 'price');
    end if;
    if char_length(p_description) > 2000 then
        perform tally.raise_error('TLIA1', 'DESCRIPTION_INVALID',
            'description must be at most 2000 characters', 'description');
    end if;
    if (p_new and p_stock is null) or p_stock < 0 then
        perform tally.raise_error('TLIA1', 'STOCK_QUANTITY_INVALID',
            'stock_quantity must be zero or more', 'stock_quantity');
    end if;
    if p_new then
        perform tally.check_id(p_category_id, 'category_id');
    end if;
    if p_category_id is not null
       and not exists (select 1 from shop.categories c where c.id = p_category_id) then
        perform tally.raise_not_found('category', p_category_id);
    end if;
end
$$;

ALTER FUNCTION shop._check_product(p_name text, p_description text, p_price numeric, p_stock integer, p_category_id bigint, p_new boolean) OWNER TO tally_owner;

--
-- Name: _check_user(text, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._check_user(p_username text, p_email text, p_description text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
begin
    if p_username is not null and p_username !~ '^[A-Za-z0-9_.-]{3,50}$' then
        perform tally.raise_error('TLIA1', 'USERNAME_INVALID',
            'username must be 3 to 50 letters, digits, "_", "." or "-"', 'username');
    end if;
    if p_email is not null and (char_length(p_email) > 254
            or p_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$') then
        perform tally.raise_error('TLIA1', 'EMAIL_INVALID', 'email is not a valid address', 'email');
    end if;
    if p_description is not null and char_length(p_description) > 1000 then
        perform tally.raise_error('TLIA1', 'DESCRIPTION_INVALID',
            'description must be at most 1000 characters', 'description');
    end if;
end
$_$;

ALTER FUNCTION shop._check_user(p_username text, p_email text, p_description text) OWNER TO tally_owner;

--
-- Name: _delete_unless_ordered(text, bigint, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._delete_unless_ordered(p_kind text, p_id bigint, p_idempotency_key text, p_idempotency_scope text) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
    if p_idempotency_key is not null then
        perform coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.delete_' || p_kind, jsonb_build_array(p_id)),
                         tally._idempotent_record((select 'true'::jsonb from shop._delete_unless_ordered(p_kind, p_id, null, null) f)));
        return;
    end if;
    perform tally.check_id(p_id, p_kind || '_id');
    if p_kind = 'product' then
        delete from shop.products p where p.id = p_id;
    else
        delete from shop.users u where u.id = p_id;
    end if;
    if not found then
        perform tally.raise_not_found(p_kind, p_id);
    end if;
exception when foreign_key_violation then
    perform tally.raise_error('TLFP1', upper(p_kind) || '_HAS_ORDERS',
        case p_kind
            when 'product' then format('product %s is in orders and cannot be deleted', p_id)
            else format('user %s has orders and cannot be deleted', p_id)
        end,
        p_kind || '_id');
end
$$;

ALTER FUNCTION shop._delete_unless_ordered(p_kind text, p_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: _item_json(bigint, bigint, numeric); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._item_json(p_product_id bigint, p_quantity bigint, p_price_at_order numeric) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN jsonb_build_object('product_id', p_product_id, 'quantity', p_quantity, 'price_at_order', (p_price_at_order)::text);

ALTER FUNCTION shop._item_json(p_product_id bigint, p_quantity bigint, p_price_at_order numeric) OWNER TO tally_owner;

--
-- Name: _lock_products(bigint[]); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._lock_products(p_product_ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
    perform 1 from shop.products p where p.id = any (p_product_ids) order by p.id
        for no key update;
end
$$;

ALTER FUNCTION shop._lock_products(p_product_ids bigint[]) OWNER TO tally_owner;

--
-- Name: _orders_with_items(bigint[]); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._orders_with_items(p_order_ids bigint[]) RETURNS TABLE(id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamp with time zone, updated_at timestamp with time zone, items jsonb)
    LANGUAGE sql STABLE
    AS $$
    select o.id, o.user_id, o.delivery_address_id, o.status, o.total_price, o.created_at,
           o.updated_at,
           (select coalesce(jsonb_agg(shop._item_json(i.product_id, i.quantity, i.price_at_order)
                                      order by i.product_id), '[]'::jsonb)
              from shop.order_items i where i.order_id = o.id)
      from shop.orders o
     where o.id = any (p_order_ids);
$$;

ALTER FUNCTION shop._orders_with_items(p_order_ids bigint[]) OWNER TO tally_owner;

--
-- Name: _parse_price(text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._parse_price(p_price text, p_field text DEFAULT 'price'::text) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
begin
    if p_price is null then
        return null;
    end if;
    if p_price !~ '^[0-9]{1,10}(\.[0-9]{1,2})?$' or p_price::numeric <= 0 then
        perform tally.raise_error('TLIA1', 'PRICE_INVALID',
            format('%s must be a decimal greater than 0 with at most 2 decimals, like "12.50"', p_field),
            p_field);
    end if;
    return p_price::numeric(12,2);
end
$_$;

ALTER FUNCTION shop._parse_price(p_price text, p_field text) OWNER TO tally_owner;

--
-- Name: _place_orders(bigint[], bigint[], integer[], bigint[], integer[]); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._place_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]) RETURNS TABLE(ord integer, id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamp with time zone, updated_at timestamp with time zone, items jsonb)
    LANGUAGE plpgsql
    AS $$
declare
    v_n integer := coalesce(cardinality(p_user_ids), 0);
    -- the lines merged per (order, product), sorted by order, then product
    v_line_ords integer[];
    v_line_products bigint[];
    v_line_qty bigint[];
    -- the products taken from, sorted by id, with what the lines copy
    v_product_ids bigint[];
    v_prices numeric[];
    v_categories bigint[];
    -- per order, by input position
    v_totals numeric[];
    v_order_ids bigint[];
    v_statuses shop.order_status[];
    v_created timestamptz[];
    v_updated timestamptz[];
begin
    select array_agg(m.o order by m.o, m.product_id),
           array_agg(m.product_id order by m.o, m.product_id),
           array_agg(m.q order by m.o, m.product_id)
      into v_line_ords, v_line_products, v_line_qty
      from (select l.o, l.product_id, sum(l.quantity) as q
              from unnest(p_line_orders, p_product_ids, p_quantities) l (o, product_id, quantity)
             where l.o between 1 and v_n
             group by l.o, l.product_id) m;

    select t.product_ids, t.prices, t.category_ids
      into v_product_ids, v_prices, v_categories
      from shop._take_stock(v_line_products, v_line_qty) t;

    select array_agg(s.total order by s.o)
      into v_totals
      from (select l.o, sum(p.price * l.q) as total
              from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
              join unnest(v_product_ids, v_prices) p (id, price) on p.id = l.product_id
             group by l.o) s;

    if exists (select 1 from unnest(v_totals) t where t >= 1e12) then
        perform tally.raise_error('TLIA1', 'TOTAL_TOO_LARGE',
            'an order total must be below 1000000000000.00', 'items');
    end if;

    -- RETURNING's row order does not matter: the ids are matched to orders by rank.
    with drawn as (
        select nextval('shop.orders_id_seq'::regclass) as id
          from generate_series(1, v_n)),
    numbered as (
        select (row_number() over (order by d.id))::integer as o, d.id from drawn d),
    placed as (
        insert into shop.orders as o (id, user_id, delivery_address_id, total_price)
        overriding system value
        select n.id, p_user_ids[n.o], p_delivery_address_ids[n.o], v_totals[n.o]
          from numbered n
        returning o.id, o.status, o.created_at, o.updated_at)
    select array_agg(x.id order by x.id), array_agg(x.status order by x.id),
           array_agg(x.created_at order by x.id), array_agg(x.updated_at order by x.id)
      into v_order_ids, v_statuses, v_created, v_updated
      from placed x;

    insert into shop.order_items (order_id, product_id, quantity, price_at_order,
                                  category_id, order_day)
    select v_order_ids[l.o], l.product_id, l.q, p.price, p.category_id,
           (v_created[l.o] at time zone 'UTC')::date
      from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
      join unnest(v_product_ids, v_prices, v_categories) p (id, price, category_id)
        on p.id = l.product_id;

    return query
        select g.o, v_order_ids[g.o], p_user_ids[g.o], p_delivery_address_ids[g.o],
               v_statuses[g.o], v_totals[g.o], v_created[g.o], v_updated[g.o], g.items
          from (select l.o,
                       jsonb_agg(shop._item_json(l.product_id, l.q, p.price)
                                 order by l.product_id) as items
                  from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
                  join unnest(v_product_ids, v_prices) p (id, price) on p.id = l.product_id
                 group by l.o) g
         order by g.o;
end
$$;

ALTER FUNCTION shop._place_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]) OWNER TO tally_owner;

--
-- Name: _raise_user_taken(text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._raise_user_taken(p_constraint text) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
    if p_constraint = 'users_email_key' then
        perform tally.raise_error('TLAE1', 'EMAIL_TAKEN', 'email is already registered', 'email');
    end if;
    perform tally.raise_error('TLAE1', 'USERNAME_TAKEN', 'username is already taken', 'username');
end
$$;

ALTER FUNCTION shop._raise_user_taken(p_constraint text) OWNER TO tally_owner;

--
-- Name: _save_product(bigint, text, text, numeric, integer, bigint); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._save_product(p_product_id bigint, p_name text, p_description text, p_price numeric, p_stock_quantity integer, p_category_id bigint) RETURNS TABLE(id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql
    AS $$
begin
    perform shop._check_product(p_name, p_description, p_price, p_stock_quantity, p_category_id,
                                p_product_id is null);
    if p_product_id is null then
        return query
            insert into shop.products as p (name, description, price, stock_quantity, category_id)
            values (p_name, nullif(p_description, ''), p_price, p_stock_quantity, p_category_id)
            returning p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
                      p.created_at, p.updated_at;
        return;
    end if;
    return query
        update shop.products p
           set name = coalesce(p_name, p.name),
               description = case when p_description is null then p.description
                                  else nullif(p_description, '') end,
               price = coalesce(p_price, p.price),
               stock_quantity = coalesce(p_stock_quantity, p.stock_quantity),
               category_id = coalesce(p_category_id, p.category_id),
               updated_at = now()
         where p.id = p_product_id
        returning p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
                  p.created_at, p.updated_at;
    if not found then
        perform tally.raise_not_found('product', p_product_id);
    end if;
end
$$;

ALTER FUNCTION shop._save_product(p_product_id bigint, p_name text, p_description text, p_price numeric, p_stock_quantity integer, p_category_id bigint) OWNER TO tally_owner;

--
-- Name: _save_user(bigint, text, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._save_user(p_user_id bigint, p_username text, p_email text, p_description text) RETURNS TABLE(id bigint, username text, email text, description text, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql
    AS $$
declare
    v_constraint text;
begin
    if p_user_id is null then
        perform shop._check_user(coalesce(p_username, ''), lower(coalesce(p_email, '')),
                                 p_description);
        return query
            insert into shop.users as u (username, email, description)
            values (p_username, lower(p_email), p_description)
            returning u.id, u.username, u.email, u.description, u.created_at, u.updated_at;
        return;
    end if;
    perform shop._check_user(p_username, lower(p_email), p_description);
    return query
        update shop.users u
           set username = coalesce(p_username, u.username),
               email = coalesce(lower(p_email), u.email),
               description = case when p_description is null then u.description
                                  else nullif(p_description, '') end,
               updated_at = now()
         where u.id = p_user_id
        returning u.id, u.username, u.email, u.description, u.created_at, u.updated_at;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
exception when unique_violation then
    get stacked diagnostics v_constraint = constraint_name;
    perform shop._raise_user_taken(v_constraint);
end
$$;

ALTER FUNCTION shop._save_user(p_user_id bigint, p_username text, p_email text, p_description text) OWNER TO tally_owner;

--
-- Name: _take_stock(bigint[], bigint[]); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop._take_stock(p_product_ids bigint[], p_quantities bigint[], OUT product_ids bigint[], OUT prices numeric[], OUT category_ids bigint[]) RETURNS record
    LANGUAGE plpgsql
    AS $$
declare
    v_needed integer;
    v_missing bigint[];
    v_short jsonb;
begin
    perform shop._lock_products(p_product_ids);

    with need as (
        select x.product_id, sum(x.q)::bigint as q
          from unnest(p_product_ids, p_quantities) x (product_id, q)
         group by x.product_id),
    taken as (
        update shop.products p
           set stock_quantity = p.stock_quantity - m.q
          from need m
         where p.id = m.product_id and p.stock_quantity >= m.q
        returning p.id, p.price, p.category_id)
    select array_agg(t.id order by t.id), array_agg(t.price order by t.id),
           array_agg(t.category_id order by t.id), (select count(*)::integer from need)
      into product_ids, prices, category_ids, v_needed
      from taken t;

    if coalesce(cardinality(product_ids), 0) < v_needed then
        -- What is not locked does not exist.
        select array_agg(distinct x order by x) into v_missing
          from unnest(p_product_ids) x
         where not exists (select 1 from shop.products p where p.id = x);
        if v_missing is not null then
            perform tally.raise_error('TLNF1', 'PRODUCT_NOT_FOUND',
                format('product %s not found', array_to_string(v_missing, ', ')),
                'items.product_id');
        end if;
        select jsonb_agg(jsonb_build_object(
                   'type', 'INSUFFICIENT_STOCK',
                   'subject', 'product:' || p.id,
                   'description', format('Insufficient stock for product %s. Available: %s, Requested: %s',
                                         p.id, p.stock_quantity, m.q),
                   'product_id', p.id, 'available', p.stock_quantity, 'requested', m.q)
                 order by p.id)
          into v_short
          from (select x.product_id, sum(x.q)::bigint as q
                  from unnest(p_product_ids, p_quantities) x (product_id, q)
                 group by x.product_id) m
          join shop.products p on p.id = m.product_id
         where p.id <> all (coalesce(product_ids, '{}'));
        perform tally.raise_error('TLFP1', 'INSUFFICIENT_STOCK',
            'insufficient stock: ' || (select string_agg(e->>'description', '; ')
                                         from jsonb_array_elements(v_short) e),
            'items', jsonb_build_object('precondition_failure', v_short)::text);
    end if;
end
$$;

ALTER FUNCTION shop._take_stock(p_product_ids bigint[], p_quantities bigint[], OUT product_ids bigint[], OUT prices numeric[], OUT category_ids bigint[]) OWNER TO tally_owner;

--
-- Name: add_address(bigint, text, text, text, text, text, boolean, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.add_address(p_user_id bigint, p_street text, p_city text, p_state text, p_zip_code text, p_country text, p_is_primary boolean DEFAULT false, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, user_id bigint, street text, city text, state text, zip_code text, country text, is_primary boolean, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.add_address', jsonb_build_array(p_user_id, p_street, p_city, p_state, p_zip_code, p_country, p_is_primary)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.add_address(p_user_id, p_street, p_city, p_state, p_zip_code, p_country, p_is_primary) f))))
            as x (id bigint, user_id bigint, street text, city text, state text, zip_code text, country text, is_primary boolean, created_at timestamptz);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    if p_street is null or char_length(p_street) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'STREET_INVALID', 'street must be 1 to 200 characters', 'street');
    end if;
    if p_city is null or char_length(p_city) not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'CITY_INVALID', 'city must be 1 to 100 characters', 'city');
    end if;
    if char_length(coalesce(p_state, '')) > 100 then
        perform tally.raise_error('TLIA1', 'STATE_INVALID', 'state must be at most 100 characters', 'state');
    end if;
    if p_zip_code is null or char_length(p_zip_code) not between 1 and 20 then
        perform tally.raise_error('TLIA1', 'ZIP_CODE_INVALID', 'zip_code must be 1 to 20 characters', 'zip_code');
    end if;
    if p_country is null or char_length(p_country) not between 2 and 100 then
        perform tally.raise_error('TLIA1', 'COUNTRY_INVALID', 'country must be 2 to 100 characters', 'country');
    end if;
    -- Lock the user: concurrent primary changes of one user queue here.
    perform 1 from shop.users u where u.id = p_user_id for no key update;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
    if coalesce(p_is_primary, false) then
        update shop.addresses a set is_primary = false where a.user_id = p_user_id and a.is_primary;
    end if;
    return query
        insert into shop.addresses as a (user_id, street, city, state, zip_code, country, is_primary)
        values (p_user_id, p_street, p_city, coalesce(p_state, ''), p_zip_code, p_country,
                coalesce(p_is_primary, false))
        returning a.id, a.user_id, a.street, a.city, a.state, a.zip_code, a.country,
                  a.is_primary, a.created_at;
end
$$;

ALTER FUNCTION shop.add_address(p_user_id bigint, p_street text, p_city text, p_state text, p_zip_code text, p_country text, p_is_primary boolean, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: create_category(text, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.create_category(p_name text, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, name text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_category', jsonb_build_array(p_name)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_category(p_name) f))))
            as x (id bigint, name text);
        return;
    end if;
    if p_name is null or char_length(p_name) not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 100 characters', 'name');
    end if;
    return query insert into shop.categories as c (name) values (p_name) returning c.id, c.name;
exception when unique_violation then
    perform tally.raise_error('TLAE1', 'CATEGORY_NAME_TAKEN',
                              format('category %s already exists', p_name), 'name');
end
$$;

ALTER FUNCTION shop.create_category(p_name text, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: create_order(bigint, bigint, bigint[], integer[], text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.create_order(p_user_id bigint, p_delivery_address_id bigint, p_product_ids bigint[], p_quantities integer[], p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamp with time zone, updated_at timestamp with time zone, items jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
    -- The order's lines all belong to order 1 of a batch of one. Arrays of different
    -- lengths pair no product with a quantity: no lines at all (ITEMS_EMPTY).
    v_lines integer[] := array_fill(1, array[case
        when cardinality(p_product_ids) is not distinct from cardinality(p_quantities)
            then coalesce(cardinality(p_product_ids), 0)
        else 0 end]);
    r record;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_order', jsonb_build_array(p_user_id, p_delivery_address_id, p_product_ids, p_quantities)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_order(p_user_id, p_delivery_address_id, p_product_ids, p_quantities) f))))
            as x (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb);
        return;
    end if;
    select c.error_sqlstate, c.error_reason, c.error_message, c.error_field into r
      from shop._check_orders(array[p_user_id], array[p_delivery_address_id], v_lines,
                              p_product_ids, p_quantities) c
     where c.error_sqlstate is not null;
    if found then
        perform tally.raise_error(r.error_sqlstate, r.error_reason, r.error_message,
                                  r.error_field);
    end if;
    return query
        select o.id, o.user_id, o.delivery_address_id, o.status, o.total_price, o.created_at,
               o.updated_at, o.items
          from shop._place_orders(array[p_user_id], array[p_delivery_address_id], v_lines,
                                  p_product_ids, p_quantities) o;
end
$$;

ALTER FUNCTION shop.create_order(p_user_id bigint, p_delivery_address_id bigint, p_product_ids bigint[], p_quantities integer[], p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: create_orders(bigint[], bigint[], integer[], bigint[], integer[], text[], text[]); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.create_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[], p_idempotency_keys text[] DEFAULT NULL::text[], p_idempotency_scopes text[] DEFAULT NULL::text[]) RETURNS TABLE(ord integer, id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamp with time zone, updated_at timestamp with time zone, items jsonb, error_sqlstate text, error_reason text, error_message text, error_field text, error_hint text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
    v_plan tally.idempotent_plan;
    v_n integer := coalesce(cardinality(p_user_ids), 0);
    r record;
    v_state text;
    v_message text;
    v_detail text;
    v_field text;
    v_hint text;
begin
    if p_idempotency_keys is not null then
        -- Keyed orders (see tally._idempotent_plan): placed by this function without keys,
        -- every order as it is when none is answered from its key (the usual case); the
        -- lines of the others keep their order, renumbered to the orders that remain.
        v_plan := tally._idempotent_plan(p_idempotency_scopes, p_idempotency_keys,
                      array(select 'shop.create_orders' || jsonb_build_array(p_user_ids[o.i], p_delivery_address_ids[o.i],
                                      coalesce(l.products, '{}'), coalesce(l.quantities, '{}'))::text
                              from generate_series(1, cardinality(p_user_ids)) o (i)
                              left join (select u.o, array_agg(u.p order by u.k) as products,
                                                array_agg(u.q order by u.k) as quantities
                                           from unnest(p_line_orders, p_product_ids, p_quantities) with ordinality u (o, p, q, k)
                                          group by u.o) l on l.o = o.i
                             order by o.i));
        if cardinality(v_plan.todo) = v_n then
            return query with done as materialized (select * from shop.create_orders(p_user_ids, p_delivery_address_ids, p_line_orders, p_product_ids, p_quantities))
                select d.* from done d, tally._idempotent_keep(v_plan, array(select to_jsonb(e) from done e order by e.ord)) k
                 order by d.ord;
        else
            return query select x.* from jsonb_to_recordset(tally._idempotent_finish(v_plan, array(
                    select to_jsonb(f)
                      from shop.create_orders(tally._pick(p_user_ids, v_plan.todo), tally._pick(p_delivery_address_ids, v_plan.todo),
                               array(select array_position(v_plan.todo, l.o) from unnest(p_line_orders) with ordinality l (o, k)
                                      where l.o = any (v_plan.todo) order by l.k),
                               array(select l.p from unnest(p_line_orders, p_product_ids) with ordinality l (o, p, k)
                                      where l.o = any (v_plan.todo) order by l.k),
                               array(select l.q from unnest(p_line_orders, p_quantities) with ordinality l (o, q, k)
                                      where l.o = any (v_plan.todo) order by l.k)) f)))
                as x (ord integer, id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb, error_sqlstate text, error_reason text, error_message text, error_field text, error_hint text)
                 order by x.ord;
        end if;
        return;
    end if;
    if cardinality(p_user_ids) is distinct from cardinality(p_delivery_address_ids)
       or cardinality(p_line_orders) is distinct from cardinality(p_product_ids)
       or cardinality(p_line_orders) is distinct from cardinality(p_quantities) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'user_ids/delivery_address_ids and line_orders/product_ids/quantities must have the same lengths');
    end if;

    if v_n > 0
       and not exists (select 1
                         from shop._check_orders(p_user_ids, p_delivery_address_ids,
                                                 p_line_orders, p_product_ids, p_quantities) c
                        where c.error_sqlstate is not null) then
        begin
            return query
                select o.ord, o.id, o.user_id, o.delivery_address_id, o.status, o.total_price,
                       o.created_at, o.updated_at, o.items, null::text, null::text,
                       null::text, null::text, null::text
                  from shop._place_orders(p_user_ids, p_delivery_address_ids, p_line_orders,
                                          p_product_ids, p_quantities) o
                 order by o.ord;
            return;
        exception when sqlstate 'TL000' or data_exception or integrity_constraint_violation then
            null;  -- nothing of the batch is left: the orders go one by one below
        end;
    end if;

    -- One by one: lock every product of the batch first, in id order, so that concurrent
    -- batches queue instead of deadlocking on each other's orders. (All at once,
    -- shop._take_stock locked them the same way; its locks went with the undone attempt.)
    perform shop._lock_products(p_product_ids);
    for i in 1 .. v_n loop
        begin
            select * into r
              from shop.create_order(
                  p_user_ids[i], p_delivery_address_ids[i],
                  coalesce((select array_agg(l.product_id order by l.n)
                              from unnest(p_line_orders, p_product_ids) with ordinality l (o, product_id, n)
                             where l.o = i), '{}'::bigint[]),
                  coalesce((select array_agg(l.quantity order by l.n)
                              from unnest(p_line_orders, p_quantities) with ordinality l (o, quantity, n)
                             where l.o = i), '{}'::integer[]));
            return query select i, r.id, r.user_id, r.delivery_address_id, r.status, r.total_price,
                                r.created_at, r.updated_at, r.items, null::text, null::text,
                                null::text, null::text, null::text;
        exception when sqlstate 'TL000' or data_exception or integrity_constraint_violation then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                                    v_detail = pg_exception_detail, v_field = column_name,
                                    v_hint = pg_exception_hint;
            return query select i, null::bigint, p_user_ids[i], p_delivery_address_ids[i],
                                null::shop.order_status, null::numeric, null::timestamptz,
                                null::timestamptz, null::jsonb, v_state,
                                case when v_state like 'TL%' then v_detail end, v_message,
                                nullif(v_field, ''), nullif(v_hint, '');
        end;
    end loop;
end
$$;

ALTER FUNCTION shop.create_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[], p_idempotency_keys text[], p_idempotency_scopes text[]) OWNER TO tally_owner;

--
-- Name: create_product(text, text, text, integer, bigint, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.create_product(p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
declare
    v_price numeric := shop._parse_price(p_price);
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_product', jsonb_build_array(p_name, p_description, p_price, p_stock_quantity, p_category_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_product(p_name, p_description, p_price, p_stock_quantity, p_category_id) f))))
            as x (id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    return query select * from shop._save_product(null, p_name, p_description, v_price,
                                                  p_stock_quantity, p_category_id);
end
$$;

ALTER FUNCTION shop.create_product(p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: create_user(text, text, text, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.create_user(p_username text, p_email text, p_description text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, username text, email text, description text, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_user', jsonb_build_array(p_username, p_email, p_description)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_user(p_username, p_email, p_description) f))))
            as x (id bigint, username text, email text, description text, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    return query select * from shop._save_user(null, p_username, p_email, p_description);
end
$$;

ALTER FUNCTION shop.create_user(p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: delete_product(bigint, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.delete_product(p_product_id bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform shop._delete_unless_ordered('product', p_product_id, p_idempotency_key, p_idempotency_scope);
end
$$;

ALTER FUNCTION shop.delete_product(p_product_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: delete_user(bigint, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.delete_user(p_user_id bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform shop._delete_unless_ordered('user', p_user_id, p_idempotency_key, p_idempotency_scope);
end
$$;

ALTER FUNCTION shop.delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: fold_statistics(); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.fold_statistics() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
    with moved as (
        delete from shop.statistics_journal
        returning category_id, report_date, items_sold, orders_count),
    added as (
        insert into shop.statistics_totals as t (report_date, category_id, items_sold, orders_count)
        select m.report_date, m.category_id, sum(m.items_sold), sum(m.orders_count)
          from moved m
         group by m.report_date, m.category_id
         order by m.report_date, m.category_id
        on conflict (report_date, category_id) do update
           set items_sold = t.items_sold + excluded.items_sold,
               orders_count = t.orders_count + excluded.orders_count)
    select count(*) from moved;
$$;

ALTER FUNCTION shop.fold_statistics() OWNER TO tally_owner;

--
-- Name: generate_daily_reports(date); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.generate_daily_reports(p_day date) RETURNS TABLE(outbox_id bigint, report_date date, reports_count integer, created boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
declare
    v_id bigint;
begin
    if p_day is null then
        perform tally.raise_error('TLIA1', 'DAY_INVALID', 'day is required', 'day');
    end if;
    -- A summary is final once written: a day still going on would be frozen incomplete.
    if p_day >= (clock_timestamp() at time zone 'UTC')::date then
        perform tally.raise_error('TLFP1', 'DAY_NOT_ENDED',
            format('%s has not ended yet (UTC): its report can be generated from %s 00:00 UTC',
                   p_day, p_day + 1), 'day');
    end if;
    perform pg_advisory_xact_lock(hashtext('shop.generate_daily_reports'));
    if not exists (select 1 from shop.report_outbox b where b.report_date = p_day) then
        insert into shop.reports (report_at, order_id, count_product)
        select p_day, o.id, (select sum(i.quantity) from shop.order_items i where i.order_id = o.id)
          from shop.orders o
         where o.created_at >= p_day::timestamp at time zone 'UTC'
           and o.created_at < (p_day + 1)::timestamp at time zone 'UTC'
         order by o.id
        on conflict on constraint reports_one_per_order do nothing;

        insert into shop.report_outbox as b (report_date, reports_count, reports)
        select p_day, count(*),
               coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'report_at', r.report_at,
                                                     'order_id', r.order_id,
                                                     'count_product', r.count_product)
                                  order by r.id), '[]'::jsonb)
          from shop.reports r where r.report_at = p_day
        on conflict on constraint report_outbox_one_per_day do nothing
        returning b.id into v_id;
        if v_id is not null then
            perform pg_notify('shop_reports', v_id::text);
        end if;
    end if;
    return query
        select b.id, b.report_date, b.reports_count, v_id is not null
          from shop.report_outbox b where b.report_date = p_day;
end
$$;

ALTER FUNCTION shop.generate_daily_reports(p_day date) OWNER TO tally_owner;

--
-- Name: get_order(bigint); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.get_order(p_order_id bigint) RETURNS TABLE(id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamp with time zone, updated_at timestamp with time zone, items jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform tally.check_id(p_order_id, 'order_id');
    return query select * from shop._orders_with_items(array[p_order_id]);
    if not found then
        perform tally.raise_not_found('order', p_order_id);
    end if;
end
$$;

ALTER FUNCTION shop.get_order(p_order_id bigint) OWNER TO tally_owner;

--
-- Name: get_product(bigint); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.get_product(p_product_id bigint) RETURNS TABLE(id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform tally.check_id(p_product_id, 'product_id');
    return query
        select p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
               p.created_at, p.updated_at
          from shop.products p where p.id = p_product_id;
    if not found then
        perform tally.raise_not_found('product', p_product_id);
    end if;
end
$$;

ALTER FUNCTION shop.get_product(p_product_id bigint) OWNER TO tally_owner;

--
-- Name: get_reports(date); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.get_reports(p_report_date date) RETURNS TABLE(id bigint, report_at date, order_id bigint, count_product integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    if p_report_date is null then
        perform tally.raise_error('TLIA1', 'DAY_INVALID', 'report_date is required', 'report_date');
    end if;
    return query
        select r.id, r.report_at, r.order_id, r.count_product
          from shop.reports r where r.report_at = p_report_date order by r.order_id;
end
$$;

ALTER FUNCTION shop.get_reports(p_report_date date) OWNER TO tally_owner;

--
-- Name: get_sales_statistics(bigint, date, date); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.get_sales_statistics(p_category_id bigint, p_date_from date, p_date_to date) RETURNS TABLE(category_id bigint, report_date date, items_sold bigint, orders_count bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    if p_date_from is null or p_date_to is null or p_date_from > p_date_to
       or p_date_to - p_date_from > 366 then
        perform tally.raise_error('TLIA1', 'DATE_RANGE_INVALID',
            'date_from and date_to are required, date_from <= date_to, at most 366 days apart',
            'date_from');
    end if;
    return query
        select s.category_id, s.report_date, s.items_sold, s.orders_count
          from shop.statistics s
         where s.report_date between p_date_from and p_date_to
           and (p_category_id is null or s.category_id = p_category_id)
         order by s.report_date, s.category_id;
end
$$;

ALTER FUNCTION shop.get_sales_statistics(p_category_id bigint, p_date_from date, p_date_to date) OWNER TO tally_owner;

--
-- Name: get_user(bigint); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.get_user(p_user_id bigint) RETURNS TABLE(id bigint, username text, email text, description text, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform tally.check_id(p_user_id, 'user_id');
    return query
        select u.id, u.username, u.email, u.description, u.created_at, u.updated_at
          from shop.users u where u.id = p_user_id;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
end
$$;

ALTER FUNCTION shop.get_user(p_user_id bigint) OWNER TO tally_owner;

--
-- Name: list_addresses(bigint); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.list_addresses(p_user_id bigint) RETURNS TABLE(id bigint, user_id bigint, street text, city text, state text, zip_code text, country text, is_primary boolean, created_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform tally.check_id(p_user_id, 'user_id');
    if not exists (select 1 from shop.users u where u.id = p_user_id) then
        perform tally.raise_not_found('user', p_user_id);
    end if;
    return query
        select a.id, a.user_id, a.street, a.city, a.state, a.zip_code, a.country,
               a.is_primary, a.created_at
          from shop.addresses a
         where a.user_id = p_user_id
         order by a.is_primary desc, a.id;
end
$$;

ALTER FUNCTION shop.list_addresses(p_user_id bigint) OWNER TO tally_owner;

--
-- Name: list_categories(); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.list_categories() RETURNS TABLE(id bigint, name text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
    select c.id, c.name from shop.categories c order by lower(c.name), c.id;
$$;

ALTER FUNCTION shop.list_categories() OWNER TO tally_owner;

--
-- Name: list_orders(bigint, shop.order_status, integer, integer); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.list_orders(p_user_id bigint DEFAULT NULL::bigint, p_status shop.order_status DEFAULT NULL::shop.order_status, p_count integer DEFAULT 10, p_page integer DEFAULT 1) RETURNS TABLE(total bigint, id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamp with time zone, updated_at timestamp with time zone, items jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform shop._check_page(p_count, p_page);
    return query
        with m as (
            select x.id, x.created_at from shop.orders x
             where (p_user_id is null or x.user_id = p_user_id)
               and (p_status is null or x.status = p_status)
        ),
        page as (
            select m.id, m.created_at from m order by m.created_at desc, m.id desc
             limit p_count offset (p_page - 1)::bigint * p_count
        )
        select t.total, o.id, o.user_id, o.delivery_address_id, o.status, o.total_price,
               o.created_at, o.updated_at, o.items
          from (select count(*) as total from m) t
          left join (select * from shop._orders_with_items(array(select page.id from page))) o on true
         order by o.created_at desc, o.id desc;
end
$$;

ALTER FUNCTION shop.list_orders(p_user_id bigint, p_status shop.order_status, p_count integer, p_page integer) OWNER TO tally_owner;

--
-- Name: list_products(integer, integer, text, text, text, bigint); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.list_products(p_count integer DEFAULT 10, p_page integer DEFAULT 1, p_name_contains text DEFAULT NULL::text, p_min_price text DEFAULT NULL::text, p_max_price text DEFAULT NULL::text, p_category_id bigint DEFAULT NULL::bigint) RETURNS TABLE(total bigint, id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
declare
    v_min numeric := shop._parse_price(p_min_price, 'min_price');
    v_max numeric := shop._parse_price(p_max_price, 'max_price');
    v_name text := lower(nullif(p_name_contains, ''));
begin
    perform shop._check_page(p_count, p_page);
    if v_min > v_max then
        perform tally.raise_error('TLIA1', 'PRICE_RANGE_REVERSED',
                                  'min_price must not exceed max_price', 'min_price');
    end if;
    return query
        with m as (
            select * from shop.products x
             where (v_name is null or strpos(lower(x.name), v_name) > 0)
               and (v_min is null or x.price >= v_min)
               and (v_max is null or x.price <= v_max)
               and (p_category_id is null or x.category_id = p_category_id)
        )
        select t.total, p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
               p.created_at, p.updated_at
          from (select count(*) as total from m) t
          left join lateral (select * from m order by m.id
                              limit p_count offset (p_page - 1)::bigint * p_count) p on true;
end
$$;

ALTER FUNCTION shop.list_products(p_count integer, p_page integer, p_name_contains text, p_min_price text, p_max_price text, p_category_id bigint) OWNER TO tally_owner;

--
-- Name: list_users(integer, integer); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.list_users(p_count integer DEFAULT 10, p_page integer DEFAULT 1) RETURNS TABLE(total bigint, id bigint, username text, email text, description text, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    perform shop._check_page(p_count, p_page);
    return query
        select t.total, u.id, u.username, u.email, u.description, u.created_at, u.updated_at
          from (select count(*) as total from shop.users) t
          left join lateral (
              select * from shop.users x order by x.id
               limit p_count offset (p_page - 1)::bigint * p_count) u on true;
end
$$;

ALTER FUNCTION shop.list_users(p_count integer, p_page integer) OWNER TO tally_owner;

--
-- Name: mark_reports_published(text, bigint[], integer); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.mark_reports_published(p_queue text, p_published bigint[], p_limit integer DEFAULT 100) RETURNS TABLE(id bigint, report_date date, reports_count integer, reports jsonb, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
declare
    v_missing bigint;
begin
    if p_queue is null or octet_length(p_queue) not between 1 and 255 then
        perform tally.raise_error('TLIA1', 'QUEUE_INVALID', 'queue must be 1 to 255 bytes', 'queue');
    end if;
    if p_limit is null or p_limit not between 1 and 1000 then
        perform tally.raise_error('TLIA1', 'LIMIT_INVALID', 'limit must be 1 to 1000', 'limit');
    end if;
    select u.id into v_missing
      from unnest(coalesce(p_published, '{}')) u (id)
     where not exists (select 1 from shop.report_outbox b where b.id = u.id)
     limit 1;
    if found then
        perform tally.raise_error('TLNF1', 'REPORT_SUMMARY_NOT_FOUND',
            format('report summary %s not found', coalesce(v_missing::text, 'null')), 'published');
    end if;
    insert into shop.report_publications (queue, outbox_id)
    select p_queue, u.id from unnest(p_published) u (id) order by u.id
    on conflict on constraint report_publications_pkey do nothing;
    return query
        select b.id, b.report_date, b.reports_count, b.reports, b.created_at
          from shop.report_outbox b
         where not exists (select 1 from shop.report_publications p
                            where p.queue = p_queue and p.outbox_id = b.id)
         order by b.id
         limit p_limit;
end
$$;

ALTER FUNCTION shop.mark_reports_published(p_queue text, p_published bigint[], p_limit integer) OWNER TO tally_owner;

--
-- Name: report_summaries_after(bigint, integer); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.report_summaries_after(p_after_id bigint, p_limit integer DEFAULT 100) RETURNS TABLE(id bigint, report_date date, reports_count integer, reports jsonb, created_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    if p_after_id is null or p_after_id < 0 then
        perform tally.raise_error('TLIA1', 'AFTER_ID_INVALID', 'after_id must be zero or more', 'after_id');
    end if;
    if p_limit is null or p_limit not between 1 and 1000 then
        perform tally.raise_error('TLIA1', 'LIMIT_INVALID', 'limit must be 1 to 1000', 'limit');
    end if;
    return query
        select b.id, b.report_date, b.reports_count, b.reports, b.created_at
          from shop.report_outbox b where b.id > p_after_id order by b.id limit p_limit;
end
$$;

ALTER FUNCTION shop.report_summaries_after(p_after_id bigint, p_limit integer) OWNER TO tally_owner;

--
-- Name: tg_order_items__statistics(); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.tg_order_items__statistics() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
    insert into shop.statistics_journal (category_id, report_date, items_sold, orders_count)
    select n.category_id, n.order_day, sum(n.quantity), count(distinct n.order_id)
      from new_rows n
     group by n.category_id, n.order_day;
    return null;
end
$$;

ALTER FUNCTION shop.tg_order_items__statistics() OWNER TO tally_owner;

--
-- Name: update_order_status(bigint, shop.order_status, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.update_order_status(p_order_id bigint, p_status shop.order_status, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamp with time zone, updated_at timestamp with time zone, items jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
declare
    v_from shop.order_status;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.update_order_status', jsonb_build_array(p_order_id, p_status)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.update_order_status(p_order_id, p_status) f))))
            as x (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb);
        return;
    end if;
    perform tally.check_id(p_order_id, 'order_id');
    if p_status is null then
        perform tally.raise_error('TLIA1', 'STATUS_INVALID', 'status is required', 'status');
    end if;
    -- One conditional UPDATE: two concurrent cancellations cannot both return the stock.
    update shop.orders o
       set status = p_status, updated_at = now()
     where o.id = p_order_id
       and (o.status, p_status) in (('PENDING', 'PAID'), ('PAID', 'SHIPPED'),
                                    ('SHIPPED', 'DELIVERED'), ('PENDING', 'CANCELLED'),
                                    ('PAID', 'CANCELLED'));
    if not found then
        select o.status into v_from from shop.orders o where o.id = p_order_id;
        if v_from is null then
            perform tally.raise_not_found('order', p_order_id);
        end if;
        perform tally.raise_error('TLFP1', 'BAD_TRANSITION',
            format('order %s cannot go from %s to %s', p_order_id, v_from, p_status), 'status');
    end if;
    if p_status = 'CANCELLED' then
        perform shop._lock_products(array(select i.product_id from shop.order_items i
                                           where i.order_id = p_order_id));
        update shop.products p
           set stock_quantity = p.stock_quantity + i.quantity
          from shop.order_items i
         where i.order_id = p_order_id and p.id = i.product_id;
    end if;
    return query select * from shop._orders_with_items(array[p_order_id]);
end
$$;

ALTER FUNCTION shop.update_order_status(p_order_id bigint, p_status shop.order_status, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: update_product(bigint, text, text, text, integer, bigint, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.update_product(p_product_id bigint, p_name text DEFAULT NULL::text, p_description text DEFAULT NULL::text, p_price text DEFAULT NULL::text, p_stock_quantity integer DEFAULT NULL::integer, p_category_id bigint DEFAULT NULL::bigint, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
declare
    v_price numeric := shop._parse_price(p_price);
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.update_product', jsonb_build_array(p_product_id, p_name, p_description, p_price, p_stock_quantity, p_category_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.update_product(p_product_id, p_name, p_description, p_price, p_stock_quantity, p_category_id) f))))
            as x (id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    perform tally.check_id(p_product_id, 'product_id');
    return query select * from shop._save_product(p_product_id, p_name, p_description, v_price,
                                                  p_stock_quantity, p_category_id);
end
$$;

ALTER FUNCTION shop.update_product(p_product_id bigint, p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: update_user(bigint, text, text, text, text, text); Type: FUNCTION; Schema: shop; Owner: tally_owner
--

CREATE FUNCTION shop.update_user(p_user_id bigint, p_username text DEFAULT NULL::text, p_email text DEFAULT NULL::text, p_description text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text, p_idempotency_scope text DEFAULT ''::text) RETURNS TABLE(id bigint, username text, email text, description text, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'shop', 'pg_temp'
    AS $$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.update_user', jsonb_build_array(p_user_id, p_username, p_email, p_description)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.update_user(p_user_id, p_username, p_email, p_description) f))))
            as x (id bigint, username text, email text, description text, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    return query select * from shop._save_user(p_user_id, p_username, p_email, p_description);
end
$$;

ALTER FUNCTION shop.update_user(p_user_id bigint, p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text) OWNER TO tally_owner;

--
-- Name: _check_page_size(integer); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._check_page_size(p_page_size integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
begin
    if p_page_size is null or p_page_size not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'PAGE_SIZE_INVALID', 'page_size must be 1 to 100',
                                  'page_size');
    end if;
end
$$;

ALTER FUNCTION tally._check_page_size(p_page_size integer) OWNER TO tally_owner;

--
-- Name: _idempotent_claim(text, text, text, jsonb); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_claim(p_scope text, p_key text, p_name text, p_args jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'tally', 'pg_temp'
    SET enable_seqscan TO 'off'
    AS $$
declare
    v_hash bytea := sha256(convert_to(p_name || p_args::text, 'UTF8'));
    r record;
begin
    if not tally._idempotent_key_valid(p_scope, p_key) then
        perform tally.raise_error('TLIA1', 'IDEMPOTENCY_KEY_INVALID',
            'idempotency key must be 1 to 128 printable ASCII characters', 'idempotency_key');
    end if;
    perform pg_advisory_xact_lock(tally._idempotent_lock(p_scope, p_key));
    -- A statement of its own, after the lock: it sees the commit of the call it waited for.
    select t.request_hash, t.outcome into r
      from tally.idempotency_keys t
     where t.scope = coalesce(p_scope, '') and t.key = p_key;
    if not found then
        perform set_config('tally.idempotency_pending', jsonb_build_object(
            'scope', coalesce(p_scope, ''), 'key', p_key,
            'request', encode(v_hash, 'hex'))::text, true);
        return null;
    elsif r.request_hash <> v_hash then
        perform tally.raise_error('TLFP1', 'IDEMPOTENCY_KEY_REUSED',
            'this idempotency key was used with a different request', 'idempotency_key');
    elsif jsonb_typeof(r.outcome) = 'object' and r.outcome->>'error_sqlstate' is not null then
        perform tally.raise_error(r.outcome->>'error_sqlstate', r.outcome->>'error_reason',
            r.outcome->>'error_message', r.outcome->>'error_field', r.outcome->>'error_hint');
    end if;
    perform set_config('tally.idempotency_replayed', 'on', true);
    return r.outcome;
end
$$;

ALTER FUNCTION tally._idempotent_claim(p_scope text, p_key text, p_name text, p_args jsonb) OWNER TO tally_owner;

--
-- Name: _idempotent_finish(tally.idempotent_plan, jsonb[]); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_finish(p_plan tally.idempotent_plan, p_done jsonb[]) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_done jsonb[];
begin
    -- Each todo item's row at the item's own place.
    select array_agg(x.r order by g.n) into v_done
      from generate_series(1, cardinality(p_plan.reasons)) g (n)
      left join (select p_plan.todo[(d.r ->> 'ord')::integer] as n, d.r
                   from unnest(p_done) d (r)) x on x.n = g.n;
    perform tally._idempotent_keep(p_plan, v_done);
    return jsonb_agg(case
               when p_plan.reasons[g.n] = 'IDEMPOTENCY_KEY_REUSED' then jsonb_build_object(
                   'error_sqlstate', 'TLFP1', 'error_reason', p_plan.reasons[g.n],
                   'error_message', 'this idempotency key was used with a different request',
                   'error_field', 'idempotency_key')
               when p_plan.reasons[g.n] is not null then jsonb_build_object(
                   'error_sqlstate', 'TLIA1', 'error_reason', p_plan.reasons[g.n],
                   'error_message', 'idempotency key must be 1 to 128 printable ASCII characters',
                   'error_field', 'idempotency_key')
               else coalesce(p_plan.replays[g.n], v_done[coalesce(p_plan.first_ord[g.n], g.n)])
           end || jsonb_build_object('ord', g.n, 'replayed',
                                     p_plan.replays[g.n] is not null
                                     or coalesce(p_plan.first_ord[g.n] <> g.n, false))
           order by g.n)
      from generate_series(1, cardinality(p_plan.reasons)) g (n);
end
$$;

ALTER FUNCTION tally._idempotent_finish(p_plan tally.idempotent_plan, p_done jsonb[]) OWNER TO tally_owner;

--
-- Name: _idempotent_keep(tally.idempotent_plan, jsonb[]); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_keep(p_plan tally.idempotent_plan, p_outcomes jsonb[]) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_count bigint;
begin
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    select coalesce(p_plan.scopes[u.n], ''), p_plan.keys[u.n], p_plan.hashes[u.n],
           p_outcomes[u.n]
      from generate_series(1, cardinality(p_plan.first_ord)) u (n)
     where p_plan.first_ord[u.n] = u.n;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

ALTER FUNCTION tally._idempotent_keep(p_plan tally.idempotent_plan, p_outcomes jsonb[]) OWNER TO tally_owner;

--
-- Name: _idempotent_key_valid(text, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_key_valid(p_scope text, p_key text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((p_key ~ '^[ -~]+$'::text) AND (octet_length(p_key) <= 128) AND (char_length(COALESCE(p_scope, ''::text)) <= 128));

ALTER FUNCTION tally._idempotent_key_valid(p_scope text, p_key text) OWNER TO tally_owner;

--
-- Name: _idempotent_lock(text, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_lock(p_scope text, p_key text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN hashtextextended(p_key, (hashtext(COALESCE(p_scope, ''::text)))::bigint);

ALTER FUNCTION tally._idempotent_lock(p_scope text, p_key text) OWNER TO tally_owner;

--
-- Name: _idempotent_plan(text[], text[], text[]); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_plan(p_scopes text[], p_keys text[], p_requests text[]) RETURNS tally.idempotent_plan
    LANGUAGE plpgsql
    SET search_path TO 'tally', 'pg_temp'
    SET enable_seqscan TO 'off'
    AS $$
declare
    v_plan tally.idempotent_plan;
begin
    if cardinality(p_keys) is distinct from cardinality(p_requests)
       or (p_scopes is not null
           and cardinality(p_scopes) is distinct from cardinality(p_requests)) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'idempotency_keys and idempotency_scopes must have one entry per item');
    end if;
    perform pg_advisory_xact_lock(l.id)
       from (select distinct tally._idempotent_lock(u.s, u.k) as id
               from unnest(p_scopes, p_keys) u (s, k)
              where u.k is not null
              order by 1) l;
    -- A statement of its own, after the locks: it sees the commits of the calls it waited for.
    with item as (
        select u.n::integer as n, coalesce(u.s, '') as s, u.k,
               sha256(convert_to(u.req, 'UTF8')) as h,
               tally._idempotent_key_valid(u.s, u.k) as valid
          from unnest(p_scopes, p_keys, p_requests) with ordinality u (s, k, req, n)
    ),
    first as (
        select distinct on (i.s, i.k) i.s, i.k, i.n, i.h
          from item i
         where i.valid
         order by i.s, i.k, i.n
    ),
    planned as (
        select i.n, i.h,
               case when t.key is null and i.h = f.h then f.n end as first_ord,
               case when i.h = t.request_hash then t.outcome end as replay,
               case
                   when i.k is null then null
                   when not i.valid then 'IDEMPOTENCY_KEY_INVALID'
                   when i.h <> coalesce(t.request_hash, f.h) then 'IDEMPOTENCY_KEY_REUSED'
               end as reason
          from item i
          left join first f on f.s = i.s and f.k = i.k
          left join lateral (select k.key, k.request_hash, k.outcome
                               from tally.idempotency_keys k
                              where i.valid and k.scope = i.s and k.key = i.k
                              limit 1) t on true
         order by i.n
    )
    -- (one sort, above, for all five arrays: the aggregates read the rows in its order)
    select array_agg(p.first_ord), array_agg(p.replay), array_agg(p.reason), array_agg(p.h),
           coalesce(array_agg(p.n) filter (where p.reason is null and p.replay is null
                                             and coalesce(p.first_ord, p.n) = p.n), '{}')
      into v_plan.first_ord, v_plan.replays, v_plan.reasons, v_plan.hashes, v_plan.todo
      from planned p;
    v_plan.scopes := p_scopes;
    v_plan.keys := p_keys;
    return v_plan;
end
$$;

ALTER FUNCTION tally._idempotent_plan(p_scopes text[], p_keys text[], p_requests text[]) OWNER TO tally_owner;

--
-- Name: _idempotent_record(jsonb); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_record(p_outcome jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_pending jsonb := nullif(current_setting('tally.idempotency_pending', true), '')::jsonb;
begin
    if v_pending is null then
        raise exception 'tally._idempotent_record: no idempotency key claimed in this transaction';
    end if;
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    values (v_pending->>'scope', v_pending->>'key', decode(v_pending->>'request', 'hex'),
            p_outcome);
    perform set_config('tally.idempotency_pending', '', true);
    return p_outcome;
end
$$;

ALTER FUNCTION tally._idempotent_record(p_outcome jsonb) OWNER TO tally_owner;

--
-- Name: _idempotent_requests(text, jsonb[]); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_requests(p_name text, VARIADIC p_columns jsonb[]) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
begin
    return array(select p_name || (select jsonb_agg(c.v -> g.i order by c.k)
                                     from unnest(p_columns) with ordinality c (v, k))::text
                   from generate_series(0, jsonb_array_length(p_columns[1]) - 1) g (i)
                  order by g.i);
end
$$;

ALTER FUNCTION tally._idempotent_requests(p_name text, VARIADIC p_columns jsonb[]) OWNER TO tally_owner;

--
-- Name: idempotency_secret; Type: TABLE; Schema: tally; Owner: tally_owner
--

CREATE TABLE tally.idempotency_secret (
    singleton boolean DEFAULT true NOT NULL,
    secret bytea NOT NULL,
    CONSTRAINT idempotency_secret_length CHECK ((octet_length(secret) = 32)),
    CONSTRAINT idempotency_secret_one_row CHECK (singleton)
);

ALTER TABLE tally.idempotency_secret OWNER TO tally_owner;

--
-- Name: TABLE idempotency_secret; Type: COMMENT; Schema: tally; Owner: tally_owner
--

COMMENT ON TABLE tally.idempotency_secret IS 'The key of the tokens that let a keyed call''s failure be recorded (tally.remember_failure). Owner only.';

--
-- Name: _idempotent_token(text, text, bytea, text, text, text, text, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._idempotent_token(p_scope text, p_key text, p_request_hash bytea, p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'tally', 'pg_temp'
    RETURN encode(sha256(((SELECT s.secret FROM tally.idempotency_secret s) || sha256(convert_to((jsonb_build_array(COALESCE(p_scope, ''::text), p_key, encode(p_request_hash, 'hex'::text), p_sqlstate, p_reason, p_message, p_field, p_hint))::text, 'UTF8'::name)))), 'hex'::text);

ALTER FUNCTION tally._idempotent_token(p_scope text, p_key text, p_request_hash bytea, p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) OWNER TO tally_owner;

--
-- Name: _pick(anyarray, integer[]); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._pick(p_values anyarray, p_ords integer[]) RETURNS anyarray
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
begin
    return array(select p_values[o.n] from unnest(p_ords) with ordinality o (n, i) order by o.i);
end
$$;

ALTER FUNCTION tally._pick(p_values anyarray, p_ords integer[]) OWNER TO tally_owner;

--
-- Name: _remember_failure(text, text, text, text, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally._remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'tally', 'pg_temp'
    AS $_$
declare
    v_hint jsonb;
    v_claim jsonb;
    v_own text;
    v_count bigint;
begin
    if p_sqlstate is null or p_sqlstate not like 'TL%' or left(p_hint, 1) is distinct from '{' then
        return false;
    end if;
    v_hint := p_hint::jsonb;
    v_claim := v_hint->'idempotency';
    if jsonb_typeof(v_claim) is distinct from 'object' or v_claim->>'request' !~ '^[0-9a-f]{64}$'
       or not tally._idempotent_key_valid(v_claim->>'scope', v_claim->>'key') then
        return false;
    end if;
    -- The error's own HINT, as raise_error was given it.
    v_own := nullif(v_hint - 'idempotency', '{}'::jsonb)::text;
    if v_claim->>'token' is distinct from tally._idempotent_token(
            v_claim->>'scope', v_claim->>'key', decode(v_claim->>'request', 'hex'),
            p_sqlstate, p_reason, p_message, p_field, v_own) then
        return false;
    end if;
    -- Under the key's lock: a retry in flight commits (or rolls back) first.
    perform pg_advisory_xact_lock(tally._idempotent_lock(v_claim->>'scope', v_claim->>'key'));
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    values (v_claim->>'scope', v_claim->>'key', decode(v_claim->>'request', 'hex'),
            jsonb_build_object('error_sqlstate', p_sqlstate, 'error_reason', p_reason,
                               'error_message', p_message, 'error_field', p_field,
                               'error_hint', v_own))
    on conflict on constraint idempotency_keys_pkey do nothing;
    get diagnostics v_count = row_count;
    return v_count = 1;
end
$_$;

ALTER FUNCTION tally._remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) OWNER TO tally_owner;

--
-- Name: authenticate_api_key(text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.authenticate_api_key(p_key text) RETURNS TABLE(key_id text, scopes text[])
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $_$
    select k.id, k.scopes
      from tally.api_keys k
     where k.id = substring(p_key from '^tally_([0-9a-f]{12})_[0-9a-f]{64}$')
       and k.revoked_at is null
       and k.secret_hash = sha256(convert_to(p_key, 'UTF8'));
$_$;

ALTER FUNCTION tally.authenticate_api_key(p_key text) OWNER TO tally_owner;

--
-- Name: begin_job_run(text, timestamp with time zone, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.begin_job_run(p_job text, p_scheduled_for timestamp with time zone, p_runner text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_id bigint;
begin
    if p_scheduled_for is null then
        perform tally.raise_error('TLIA1', 'SCHEDULED_FOR_REQUIRED',
                                  'the scheduled time is required', 'scheduled_for');
    end if;
    insert into tally.job_runs (job, scheduled_for, started_at, outcome, runner)
    values (p_job, p_scheduled_for, clock_timestamp(), 'running', coalesce(p_runner, ''))
    on conflict (job, scheduled_for) where outcome in ('running', 'succeeded') do nothing
    returning id into v_id;
    return v_id;
end
$$;

ALTER FUNCTION tally.begin_job_run(p_job text, p_scheduled_for timestamp with time zone, p_runner text) OWNER TO tally_owner;

--
-- Name: check_fence(text, bigint); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.check_fence(p_name text, p_token bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_token bigint;
begin
    if p_name is null or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'FENCE_NAME_INVALID',
                                  'the lock name must be 1 to 200 characters', 'name');
    end if;
    if p_token is null or p_token <= 0 then
        perform tally.raise_error('TLIA1', 'FENCING_TOKEN_INVALID',
                                  'a fencing token is a positive integer', 'token');
    end if;
    insert into tally.fences as f (name, token) values (p_name, p_token)
    on conflict (name) do update set token = excluded.token, updated_at = now()
        where f.token <= excluded.token
    returning f.token into v_token;
    if v_token is null then
        perform tally.raise_error('TLFP1', 'STALE_FENCING_TOKEN',
            format('fencing token %s for %s is stale: a newer holder presented %s',
                   p_token, p_name, (select token from tally.fences where name = p_name)));
    end if;
    return v_token;
end
$$;

ALTER FUNCTION tally.check_fence(p_name text, p_token bigint) OWNER TO tally_owner;

--
-- Name: check_id(bigint, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.check_id(p_id bigint, p_field text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
begin
    if p_id is null or p_id < 1 then
        perform tally.raise_error('TLIA1', upper(p_field) || '_INVALID',
                                  p_field || ' must be a positive id', p_field);
    end if;
end
$$;

ALTER FUNCTION tally.check_id(p_id bigint, p_field text) OWNER TO tally_owner;

--
-- Name: create_api_key(text, text[]); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.create_api_key(p_name text, p_scopes text[]) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $_$
declare
    v_bad_scope text;
    v_scopes text[];
    v_id text;
    v_key text;
    v_inserted text;
begin
    if p_name is null or p_name !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$' then
        perform tally.raise_error('TLIA1', 'NAME_INVALID',
            'an API key name is 1 to 100 letters, digits, ".", "_", "-" or "@",'
            ' starting with a letter or digit', 'name');
    end if;
    if p_scopes is null or cardinality(p_scopes) = 0 then
        perform tally.raise_error('TLIA1', 'SCOPES_REQUIRED',
                                  'an API key needs at least one scope', 'scopes');
    end if;
    select s into v_bad_scope
      from unnest(p_scopes) s
     where s is null or not (s = '*' or s ~ '^(booking|clicks|segments|shop):(read|write)$')
     limit 1;
    if found then
        perform tally.raise_error('TLIA1', 'SCOPE_INVALID',
            format('unknown scope %s: use *, or <domain>:read or <domain>:write for'
                   ' booking, clicks, segments or shop', coalesce(v_bad_scope, 'null')),
            'scopes');
    end if;
    select array_agg(distinct s order by s) into v_scopes from unnest(p_scopes) s;

    v_id := left(replace(gen_random_uuid()::text, '-', ''), 12);
    v_key := format('tally_%s_%s%s', v_id, replace(gen_random_uuid()::text, '-', ''),
                    replace(gen_random_uuid()::text, '-', ''));
    insert into tally.api_keys (id, name, secret_hash, scopes)
    values (v_id, p_name, sha256(convert_to(v_key, 'UTF8')), v_scopes)
    on conflict (name) where revoked_at is null do nothing
    returning id into v_inserted;
    if v_inserted is null then
        perform tally.raise_error('TLAE1', 'NAME_TAKEN',
            format('a live API key is already named %s (revoke it first)', p_name), 'name');
    end if;
    return v_key;
end
$_$;

ALTER FUNCTION tally.create_api_key(p_name text, p_scopes text[]) OWNER TO tally_owner;

--
-- Name: finish_job_run(bigint); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.finish_job_run(p_id bigint) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_finished timestamptz;
begin
    update tally.job_runs set outcome = 'succeeded', finished_at = clock_timestamp()
     where id = p_id and outcome = 'running'
    returning finished_at into v_finished;
    if v_finished is null then
        perform tally.raise_error('TLNF1', 'JOB_RUN_NOT_FOUND',
                                  format('no running job run %s', p_id), 'id');
    end if;
    return v_finished;
end
$$;

ALTER FUNCTION tally.finish_job_run(p_id bigint) OWNER TO tally_owner;

--
-- Name: last_job_success(text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.last_job_success(p_job text) RETURNS timestamp with time zone
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $$
    select max(scheduled_for) from tally.job_runs where job = p_job and outcome = 'succeeded';
$$;

ALTER FUNCTION tally.last_job_success(p_job text) OWNER TO tally_owner;

--
-- Name: purge_idempotency_keys(timestamp with time zone, interval); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.purge_idempotency_keys(p_at timestamp with time zone, p_window interval DEFAULT '24:00:00'::interval) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_count bigint;
begin
    if p_at is null or p_window is null or p_window < interval '0' then
        perform tally.raise_error('TLIA1', 'PURGE_ARGUMENT_INVALID',
                                  'at is required and window must not be negative');
    end if;
    delete from tally.idempotency_keys where created_at < p_at - p_window;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

ALTER FUNCTION tally.purge_idempotency_keys(p_at timestamp with time zone, p_window interval) OWNER TO tally_owner;

--
-- Name: raise_error(text, text, text, text, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.raise_error(p_sqlstate text, p_reason text, p_message text, p_field text DEFAULT NULL::text, p_hint text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    AS $$
declare
    v_pending jsonb := nullif(current_setting('tally.idempotency_pending', true), '')::jsonb;
    v_hint text := p_hint;
begin
    if v_pending is not null and (p_hint is null or left(p_hint, 1) = '{') then
        v_hint := (coalesce(p_hint::jsonb, '{}') || jsonb_build_object('idempotency',
            v_pending || jsonb_build_object('token', tally._idempotent_token(
                v_pending->>'scope', v_pending->>'key', decode(v_pending->>'request', 'hex'),
                p_sqlstate, p_reason, p_message, p_field, p_hint::jsonb::text))))::text;
    end if;
    -- (RAISE takes no null option: one statement per combination of the optional ones)
    if p_field is null and v_hint is null then
        raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason;
    elsif p_field is null then
        raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason,
                              hint = v_hint;
    elsif v_hint is null then
        raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason,
                              column = p_field;
    end if;
    raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason,
                          column = p_field, hint = v_hint;
end
$$;

ALTER FUNCTION tally.raise_error(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) OWNER TO tally_owner;

--
-- Name: raise_not_found(text, bigint); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.raise_not_found(p_thing text, p_id bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
    perform tally.raise_error('TLNF1', upper(p_thing) || '_NOT_FOUND',
                              format('%s %s not found', p_thing, p_id), p_thing || '_id');
end
$$;

ALTER FUNCTION tally.raise_not_found(p_thing text, p_id bigint) OWNER TO tally_owner;

--
-- Name: record_failed_job_run(text, timestamp with time zone, timestamp with time zone, text, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.record_failed_job_run(p_job text, p_scheduled_for timestamp with time zone, p_started_at timestamp with time zone, p_error text, p_runner text) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $$
    insert into tally.job_runs (job, scheduled_for, started_at, finished_at, outcome, error,
                                runner)
    values (p_job, p_scheduled_for, least(p_started_at, clock_timestamp()), clock_timestamp(),
            'failed', coalesce(nullif(p_error, ''), 'unknown error'), coalesce(p_runner, ''))
    returning id;
$$;

ALTER FUNCTION tally.record_failed_job_run(p_job text, p_scheduled_for timestamp with time zone, p_started_at timestamp with time zone, p_error text, p_runner text) OWNER TO tally_owner;

--
-- Name: remember_failure(text, text, text, text, text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    RETURN tally._remember_failure(p_sqlstate, p_reason, p_message, p_field, p_hint);

ALTER FUNCTION tally.remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) OWNER TO tally_owner;

--
-- Name: revoke_api_key(text); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.revoke_api_key(p_name text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_id text;
begin
    if p_name is null then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'the key''s name is required',
                                  'name');
    end if;
    update tally.api_keys set revoked_at = now()
     where name = p_name and revoked_at is null
    returning id into v_id;
    if v_id is null then
        perform tally.raise_error('TLNF1', 'API_KEY_NOT_FOUND',
                                  format('no live API key is named %s', p_name), 'name');
    end if;
    return v_id;
end
$$;

ALTER FUNCTION tally.revoke_api_key(p_name text) OWNER TO tally_owner;

--
-- Name: tg_cached_rows__announce(); Type: FUNCTION; Schema: tally; Owner: tally_owner
--

CREATE FUNCTION tally.tg_cached_rows__announce() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'tally', 'pg_temp'
    AS $$
declare
    v_ids bigint[];
    v_from integer := 1;
begin
    select coalesce(array_agg(distinct id order by id), '{}') into v_ids from changed_rows;
    while v_from <= cardinality(v_ids) loop
        perform pg_notify('tally_cache', tg_argv[0] || ' '
                          || array_to_string(v_ids[v_from:v_from + 499], ' '));
        v_from := v_from + 500;
    end loop;
    return null;
end
$$;

ALTER FUNCTION tally.tg_cached_rows__announce() OWNER TO tally_owner;

--
-- Name: bookings; Type: TABLE; Schema: booking; Owner: tally_owner
--

CREATE TABLE booking.bookings (
    id bigint NOT NULL,
    event_id bigint NOT NULL,
    user_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT bookings_user_id_length CHECK (((char_length(user_id) >= 1) AND (char_length(user_id) <= 255)))
);

ALTER TABLE booking.bookings OWNER TO tally_owner;

--
-- Name: bookings_id_seq; Type: SEQUENCE; Schema: booking; Owner: tally_owner
--

ALTER TABLE booking.bookings ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME booking.bookings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: events; Type: TABLE; Schema: booking; Owner: tally_owner
--

CREATE TABLE booking.events (
    id bigint NOT NULL,
    name text NOT NULL,
    total_seats integer NOT NULL,
    booked_seats integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT events_booked_seats_within_total CHECK (((booked_seats >= 0) AND (booked_seats <= total_seats))),
    CONSTRAINT events_name_length CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT events_total_seats_nonnegative CHECK ((total_seats >= 0))
);

ALTER TABLE booking.events OWNER TO tally_owner;

--
-- Name: events_id_seq; Type: SEQUENCE; Schema: booking; Owner: tally_owner
--

ALTER TABLE booking.events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME booking.events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: banners; Type: TABLE; Schema: clicks; Owner: tally_owner
--

CREATE TABLE clicks.banners (
    id bigint NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT banners_name_length CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200)))
);

ALTER TABLE clicks.banners OWNER TO tally_owner;

--
-- Name: banners_id_seq; Type: SEQUENCE; Schema: clicks; Owner: tally_owner
--

ALTER TABLE clicks.banners ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME clicks.banners_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: minute_counts; Type: TABLE; Schema: clicks; Owner: tally_owner
--

CREATE TABLE clicks.minute_counts (
    banner_id bigint NOT NULL,
    minute timestamp with time zone NOT NULL,
    clicks bigint NOT NULL,
    CONSTRAINT minute_counts_clicks_positive CHECK ((clicks > 0)),
    CONSTRAINT minute_counts_minute_whole CHECK ((minute = date_bin('00:01:00'::interval, minute, '2000-01-01 00:00:00+00'::timestamp with time zone)))
)
PARTITION BY RANGE (minute);

ALTER TABLE clicks.minute_counts OWNER TO tally_owner;

--
-- Name: minute_counts_default; Type: TABLE; Schema: clicks; Owner: tally_owner
--

CREATE TABLE clicks.minute_counts_default (
    banner_id bigint NOT NULL,
    minute timestamp with time zone NOT NULL,
    clicks bigint NOT NULL,
    CONSTRAINT minute_counts_clicks_positive CHECK ((clicks > 0)),
    CONSTRAINT minute_counts_minute_whole CHECK ((minute = date_bin('00:01:00'::interval, minute, '2000-01-01 00:00:00+00'::timestamp with time zone)))
);

ALTER TABLE clicks.minute_counts_default OWNER TO tally_owner;

--
-- Name: settings; Type: TABLE; Schema: clicks; Owner: tally_owner
--

CREATE TABLE clicks.settings (
    singleton boolean DEFAULT true NOT NULL,
    ingest_window interval DEFAULT '7 days'::interval NOT NULL,
    max_clock_skew interval DEFAULT '00:02:00'::interval NOT NULL,
    minute_retention interval DEFAULT '40 days'::interval NOT NULL,
    partitions_ahead integer DEFAULT 7 NOT NULL,
    max_stats_range interval DEFAULT '31 days'::interval NOT NULL,
    CONSTRAINT settings_ingest_window_positive CHECK ((ingest_window > '00:00:00'::interval)),
    CONSTRAINT settings_max_clock_skew_nonnegative CHECK ((max_clock_skew >= '00:00:00'::interval)),
    CONSTRAINT settings_max_stats_range_positive CHECK ((max_stats_range > '00:00:00'::interval)),
    CONSTRAINT settings_partitions_ahead_range CHECK (((partitions_ahead >= 1) AND (partitions_ahead <= 366))),
    CONSTRAINT settings_retention_covers_ingest CHECK ((minute_retention >= (ingest_window + '1 day'::interval))),
    CONSTRAINT settings_singleton CHECK (singleton)
);

ALTER TABLE clicks.settings OWNER TO tally_owner;

--
-- Name: history; Type: TABLE; Schema: segments; Owner: tally_owner
--

CREATE TABLE segments.history (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    segment_id bigint NOT NULL,
    slug text NOT NULL,
    operation segments.operation NOT NULL,
    at timestamp with time zone NOT NULL
);

ALTER TABLE segments.history OWNER TO tally_owner;

--
-- Name: history_id_seq; Type: SEQUENCE; Schema: segments; Owner: tally_owner
--

ALTER TABLE segments.history ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME segments.history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: memberships; Type: TABLE; Schema: segments; Owner: tally_owner
--

CREATE TABLE segments.memberships (
    user_id bigint NOT NULL,
    segment_id bigint NOT NULL,
    expires_at timestamp with time zone,
    added_at timestamp with time zone NOT NULL,
    CONSTRAINT memberships_expiry_after_add CHECK ((expires_at > added_at))
);

ALTER TABLE segments.memberships OWNER TO tally_owner;

--
-- Name: opt_outs; Type: TABLE; Schema: segments; Owner: tally_owner
--

CREATE TABLE segments.opt_outs (
    user_id bigint NOT NULL,
    segment_id bigint NOT NULL
);

ALTER TABLE segments.opt_outs OWNER TO tally_owner;

--
-- Name: segments; Type: TABLE; Schema: segments; Owner: tally_owner
--

CREATE TABLE segments.segments (
    id bigint NOT NULL,
    slug text NOT NULL,
    auto_percent numeric(5,2),
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    deleted_at timestamp with time zone,
    adds_derived boolean DEFAULT true NOT NULL,
    CONSTRAINT segments_auto_percent_range CHECK (((auto_percent >= (0)::numeric) AND (auto_percent <= (100)::numeric))),
    CONSTRAINT segments_slug_format CHECK ((slug ~ '^[A-Za-z0-9_.-]{1,128}$'::text))
);

ALTER TABLE segments.segments OWNER TO tally_owner;

--
-- Name: segments_id_seq; Type: SEQUENCE; Schema: segments; Owner: tally_owner
--

ALTER TABLE segments.segments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME segments.segments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: users; Type: TABLE; Schema: segments; Owner: tally_owner
--

CREATE TABLE segments.users (
    id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT users_id_positive CHECK ((id > 0))
);

ALTER TABLE segments.users OWNER TO tally_owner;

--
-- Name: addresses; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.addresses (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    street text NOT NULL,
    city text NOT NULL,
    state text NOT NULL,
    zip_code text NOT NULL,
    country text NOT NULL,
    is_primary boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT addresses_city_length CHECK (((char_length(city) >= 1) AND (char_length(city) <= 100))),
    CONSTRAINT addresses_country_length CHECK (((char_length(country) >= 2) AND (char_length(country) <= 100))),
    CONSTRAINT addresses_state_length CHECK (((char_length(state) >= 0) AND (char_length(state) <= 100))),
    CONSTRAINT addresses_street_length CHECK (((char_length(street) >= 1) AND (char_length(street) <= 200))),
    CONSTRAINT addresses_zip_code_length CHECK (((char_length(zip_code) >= 1) AND (char_length(zip_code) <= 20)))
);

ALTER TABLE shop.addresses OWNER TO tally_owner;

--
-- Name: addresses_id_seq; Type: SEQUENCE; Schema: shop; Owner: tally_owner
--

ALTER TABLE shop.addresses ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME shop.addresses_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: categories; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.categories (
    id bigint NOT NULL,
    name text NOT NULL,
    CONSTRAINT categories_name_length CHECK (((char_length(name) >= 1) AND (char_length(name) <= 100)))
);

ALTER TABLE shop.categories OWNER TO tally_owner;

--
-- Name: categories_id_seq; Type: SEQUENCE; Schema: shop; Owner: tally_owner
--

ALTER TABLE shop.categories ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME shop.categories_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: order_items; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.order_items (
    order_id bigint NOT NULL,
    product_id bigint NOT NULL,
    quantity integer NOT NULL,
    price_at_order numeric(12,2) NOT NULL,
    category_id bigint NOT NULL,
    order_day date NOT NULL,
    CONSTRAINT order_items_price_positive CHECK ((price_at_order > (0)::numeric)),
    CONSTRAINT order_items_quantity_positive CHECK ((quantity > 0))
);

ALTER TABLE shop.order_items OWNER TO tally_owner;

--
-- Name: orders; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.orders (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    delivery_address_id bigint NOT NULL,
    status shop.order_status DEFAULT 'PENDING'::shop.order_status NOT NULL,
    total_price numeric(14,2) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT orders_total_nonnegative CHECK ((total_price >= (0)::numeric))
);

ALTER TABLE shop.orders OWNER TO tally_owner;

--
-- Name: orders_id_seq; Type: SEQUENCE; Schema: shop; Owner: tally_owner
--

ALTER TABLE shop.orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME shop.orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: products; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.products (
    id bigint NOT NULL,
    name text NOT NULL,
    description text,
    price numeric(12,2) NOT NULL,
    stock_quantity integer NOT NULL,
    category_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT products_description_length CHECK ((char_length(description) <= 2000)),
    CONSTRAINT products_name_length CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT products_price_positive CHECK ((price > (0)::numeric)),
    CONSTRAINT products_stock_nonnegative CHECK ((stock_quantity >= 0))
);

ALTER TABLE shop.products OWNER TO tally_owner;

--
-- Name: products_id_seq; Type: SEQUENCE; Schema: shop; Owner: tally_owner
--

ALTER TABLE shop.products ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME shop.products_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: report_outbox; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.report_outbox (
    id bigint NOT NULL,
    report_date date NOT NULL,
    reports_count integer NOT NULL,
    reports jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE shop.report_outbox OWNER TO tally_owner;

--
-- Name: report_outbox_id_seq; Type: SEQUENCE; Schema: shop; Owner: tally_owner
--

ALTER TABLE shop.report_outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME shop.report_outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: report_publications; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.report_publications (
    queue text NOT NULL,
    outbox_id bigint NOT NULL,
    published_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT report_publications_queue_valid CHECK (((octet_length(queue) >= 1) AND (octet_length(queue) <= 255)))
);

ALTER TABLE shop.report_publications OWNER TO tally_owner;

--
-- Name: TABLE report_publications; Type: COMMENT; Schema: shop; Owner: tally_owner
--

COMMENT ON TABLE shop.report_publications IS 'Report summaries published to an AMQP queue (confirmed by the broker), by queue.';

--
-- Name: reports; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.reports (
    id bigint NOT NULL,
    report_at date NOT NULL,
    order_id bigint NOT NULL,
    count_product integer NOT NULL
);

ALTER TABLE shop.reports OWNER TO tally_owner;

--
-- Name: reports_id_seq; Type: SEQUENCE; Schema: shop; Owner: tally_owner
--

ALTER TABLE shop.reports ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME shop.reports_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: statistics_journal; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.statistics_journal (
    category_id bigint NOT NULL,
    report_date date NOT NULL,
    items_sold bigint NOT NULL,
    orders_count bigint NOT NULL
);

ALTER TABLE shop.statistics_journal OWNER TO tally_owner;

--
-- Name: TABLE statistics_journal; Type: COMMENT; Schema: shop; Owner: tally_owner
--

COMMENT ON TABLE shop.statistics_journal IS 'Sales statistics not yet folded into shop.statistics_totals: one row per (category, day) per INSERT into shop.order_items.';

--
-- Name: statistics_totals; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.statistics_totals (
    report_date date NOT NULL,
    category_id bigint NOT NULL,
    items_sold bigint NOT NULL,
    orders_count bigint NOT NULL
);

ALTER TABLE shop.statistics_totals OWNER TO tally_owner;

--
-- Name: TABLE statistics_totals; Type: COMMENT; Schema: shop; Owner: tally_owner
--

COMMENT ON TABLE shop.statistics_totals IS 'Sales statistics folded from shop.statistics_journal by shop.fold_statistics(): one row per (day, category).';

--
-- Name: statistics; Type: VIEW; Schema: shop; Owner: tally_owner
--

CREATE VIEW shop.statistics AS
 SELECT s.category_id,
    s.report_date,
    (sum(s.items_sold))::bigint AS items_sold,
    (sum(s.orders_count))::bigint AS orders_count
   FROM ( SELECT t.category_id,
            t.report_date,
            t.items_sold,
            t.orders_count
           FROM shop.statistics_totals t
        UNION ALL
         SELECT j.category_id,
            j.report_date,
            j.items_sold,
            j.orders_count
           FROM shop.statistics_journal j) s
  GROUP BY s.category_id, s.report_date;

ALTER TABLE shop.statistics OWNER TO tally_owner;

--
-- Name: users; Type: TABLE; Schema: shop; Owner: tally_owner
--

CREATE TABLE shop.users (
    id bigint NOT NULL,
    username text NOT NULL,
    email text NOT NULL,
    description text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_description_length CHECK ((char_length(description) <= 1000)),
    CONSTRAINT users_email_format CHECK (((char_length(email) <= 254) AND (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'::text) AND (email = lower(email)))),
    CONSTRAINT users_username_format CHECK ((username ~ '^[A-Za-z0-9_.-]{3,50}$'::text))
);

ALTER TABLE shop.users OWNER TO tally_owner;

--
-- Name: users_id_seq; Type: SEQUENCE; Schema: shop; Owner: tally_owner
--

ALTER TABLE shop.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME shop.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: api_keys; Type: TABLE; Schema: tally; Owner: tally_owner
--

CREATE TABLE tally.api_keys (
    id text NOT NULL,
    name text NOT NULL,
    secret_hash bytea NOT NULL,
    scopes text[] NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_id_format CHECK ((id ~ '^[0-9a-f]{12}$'::text)),
    CONSTRAINT api_keys_name_valid CHECK ((name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$'::text)),
    CONSTRAINT api_keys_scopes_known CHECK (((cardinality(scopes) > 0) AND (scopes <@ ARRAY['*'::text, 'booking:read'::text, 'booking:write'::text, 'clicks:read'::text, 'clicks:write'::text, 'segments:read'::text, 'segments:write'::text, 'shop:read'::text, 'shop:write'::text]))),
    CONSTRAINT api_keys_secret_hash_sha256 CHECK ((octet_length(secret_hash) = 32))
);

ALTER TABLE tally.api_keys OWNER TO tally_owner;

--
-- Name: TABLE api_keys; Type: COMMENT; Schema: tally; Owner: tally_owner
--

COMMENT ON TABLE tally.api_keys IS 'gRPC API keys: SHA-256 of the secret, scopes, revocation. Operators only.';

--
-- Name: fences; Type: TABLE; Schema: tally; Owner: tally_owner
--

CREATE TABLE tally.fences (
    name text NOT NULL,
    token bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT fences_name_length CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT fences_token_positive CHECK ((token > 0))
);

ALTER TABLE tally.fences OWNER TO tally_owner;

--
-- Name: idempotency_keys; Type: TABLE; Schema: tally; Owner: tally_owner
--

CREATE TABLE tally.idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    outcome jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT idempotency_keys_key_printable CHECK (((key ~ '^[ -~]+$'::text) AND (octet_length(key) <= 128))),
    CONSTRAINT idempotency_keys_request_hash_sha256 CHECK ((octet_length(request_hash) = 32)),
    CONSTRAINT idempotency_keys_scope_length CHECK ((char_length(scope) <= 128))
)
WITH (fillfactor='100');

ALTER TABLE tally.idempotency_keys OWNER TO tally_owner;

--
-- Name: TABLE idempotency_keys; Type: COMMENT; Schema: tally; Owner: tally_owner
--

COMMENT ON TABLE tally.idempotency_keys IS 'Keys of keyed writes with their request hash and outcome, inserted once with the write. Write functions only.';

--
-- Name: job_runs; Type: TABLE; Schema: tally; Owner: tally_owner
--

CREATE TABLE tally.job_runs (
    id bigint NOT NULL,
    job text NOT NULL,
    scheduled_for timestamp with time zone NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    outcome text NOT NULL,
    error text,
    runner text NOT NULL,
    CONSTRAINT job_runs_error_when_failed CHECK (((outcome = 'failed'::text) = (error IS NOT NULL))),
    CONSTRAINT job_runs_finished_after_started CHECK ((finished_at >= started_at)),
    CONSTRAINT job_runs_finished_when_done CHECK (((outcome = 'running'::text) = (finished_at IS NULL))),
    CONSTRAINT job_runs_job_length CHECK (((char_length(job) >= 1) AND (char_length(job) <= 200))),
    CONSTRAINT job_runs_outcome_valid CHECK ((outcome = ANY (ARRAY['running'::text, 'succeeded'::text, 'failed'::text])))
);

ALTER TABLE tally.job_runs OWNER TO tally_owner;

--
-- Name: job_runs_id_seq; Type: SEQUENCE; Schema: tally; Owner: tally_owner
--

ALTER TABLE tally.job_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME tally.job_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: job_runs_view; Type: VIEW; Schema: tally; Owner: tally_owner
--

CREATE VIEW tally.job_runs_view AS
 SELECT job_runs.id,
    job_runs.job,
    job_runs.scheduled_for,
    job_runs.started_at,
    job_runs.finished_at,
    job_runs.outcome,
    job_runs.error,
    job_runs.runner,
    (job_runs.finished_at - job_runs.started_at) AS duration
   FROM tally.job_runs
  WHERE (job_runs.outcome <> 'running'::text);

ALTER TABLE tally.job_runs_view OWNER TO tally_owner;

--
-- Name: minute_counts_default; Type: TABLE ATTACH; Schema: clicks; Owner: tally_owner
--

ALTER TABLE ONLY clicks.minute_counts ATTACH PARTITION clicks.minute_counts_default DEFAULT;

--
-- Name: bookings bookings_one_seat_per_user; Type: CONSTRAINT; Schema: booking; Owner: tally_owner
--

ALTER TABLE ONLY booking.bookings
    ADD CONSTRAINT bookings_one_seat_per_user UNIQUE (event_id, user_id);

--
-- Name: bookings bookings_pkey; Type: CONSTRAINT; Schema: booking; Owner: tally_owner
--

ALTER TABLE ONLY booking.bookings
    ADD CONSTRAINT bookings_pkey PRIMARY KEY (id);

--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: booking; Owner: tally_owner
--

ALTER TABLE ONLY booking.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);

--
-- Name: banners banners_pkey; Type: CONSTRAINT; Schema: clicks; Owner: tally_owner
--

ALTER TABLE ONLY clicks.banners
    ADD CONSTRAINT banners_pkey PRIMARY KEY (id);

--
-- Name: minute_counts minute_counts_pkey; Type: CONSTRAINT; Schema: clicks; Owner: tally_owner
--

ALTER TABLE ONLY clicks.minute_counts
    ADD CONSTRAINT minute_counts_pkey PRIMARY KEY (banner_id, minute);

--
-- Name: minute_counts_default minute_counts_default_pkey; Type: CONSTRAINT; Schema: clicks; Owner: tally_owner
--

ALTER TABLE ONLY clicks.minute_counts_default
    ADD CONSTRAINT minute_counts_default_pkey PRIMARY KEY (banner_id, minute);

--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: clicks; Owner: tally_owner
--

ALTER TABLE ONLY clicks.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (singleton);

--
-- Name: history history_pkey; Type: CONSTRAINT; Schema: segments; Owner: tally_owner
--

ALTER TABLE ONLY segments.history
    ADD CONSTRAINT history_pkey PRIMARY KEY (at, id);

--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: segments; Owner: tally_owner
--

ALTER TABLE ONLY segments.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (user_id, segment_id);

--
-- Name: opt_outs opt_outs_pkey; Type: CONSTRAINT; Schema: segments; Owner: tally_owner
--

ALTER TABLE ONLY segments.opt_outs
    ADD CONSTRAINT opt_outs_pkey PRIMARY KEY (user_id, segment_id);

--
-- Name: segments segments_pkey; Type: CONSTRAINT; Schema: segments; Owner: tally_owner
--

ALTER TABLE ONLY segments.segments
    ADD CONSTRAINT segments_pkey PRIMARY KEY (id);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: segments; Owner: tally_owner
--

ALTER TABLE ONLY segments.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: addresses addresses_id_user_key; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.addresses
    ADD CONSTRAINT addresses_id_user_key UNIQUE (id, user_id);

--
-- Name: addresses addresses_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.addresses
    ADD CONSTRAINT addresses_pkey PRIMARY KEY (id);

--
-- Name: categories categories_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.categories
    ADD CONSTRAINT categories_pkey PRIMARY KEY (id);

--
-- Name: order_items order_items_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.order_items
    ADD CONSTRAINT order_items_pkey PRIMARY KEY (order_id, product_id);

--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);

--
-- Name: products products_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.products
    ADD CONSTRAINT products_pkey PRIMARY KEY (id);

--
-- Name: report_outbox report_outbox_one_per_day; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.report_outbox
    ADD CONSTRAINT report_outbox_one_per_day UNIQUE (report_date);

--
-- Name: report_outbox report_outbox_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.report_outbox
    ADD CONSTRAINT report_outbox_pkey PRIMARY KEY (id);

--
-- Name: report_publications report_publications_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.report_publications
    ADD CONSTRAINT report_publications_pkey PRIMARY KEY (queue, outbox_id);

--
-- Name: reports reports_one_per_order; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.reports
    ADD CONSTRAINT reports_one_per_order UNIQUE (report_at, order_id);

--
-- Name: reports reports_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.reports
    ADD CONSTRAINT reports_pkey PRIMARY KEY (id);

--
-- Name: statistics_totals statistics_totals_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.statistics_totals
    ADD CONSTRAINT statistics_totals_pkey PRIMARY KEY (report_date, category_id);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: tally; Owner: tally_owner
--

ALTER TABLE ONLY tally.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

--
-- Name: fences fences_pkey; Type: CONSTRAINT; Schema: tally; Owner: tally_owner
--

ALTER TABLE ONLY tally.fences
    ADD CONSTRAINT fences_pkey PRIMARY KEY (name);

--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: tally; Owner: tally_owner
--

ALTER TABLE ONLY tally.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key);

--
-- Name: idempotency_secret idempotency_secret_pkey; Type: CONSTRAINT; Schema: tally; Owner: tally_owner
--

ALTER TABLE ONLY tally.idempotency_secret
    ADD CONSTRAINT idempotency_secret_pkey PRIMARY KEY (singleton);

--
-- Name: job_runs job_runs_pkey; Type: CONSTRAINT; Schema: tally; Owner: tally_owner
--

ALTER TABLE ONLY tally.job_runs
    ADD CONSTRAINT job_runs_pkey PRIMARY KEY (id);

--
-- Name: bookings_user_id_idx; Type: INDEX; Schema: booking; Owner: tally_owner
--

CREATE INDEX bookings_user_id_idx ON booking.bookings USING btree (user_id);

--
-- Name: memberships_expires_idx; Type: INDEX; Schema: segments; Owner: tally_owner
--

CREATE INDEX memberships_expires_idx ON segments.memberships USING btree (expires_at) WHERE (expires_at IS NOT NULL);

--
-- Name: segments_auto_idx; Type: INDEX; Schema: segments; Owner: tally_owner
--

CREATE INDEX segments_auto_idx ON segments.segments USING btree (id) WHERE ((deleted_at IS NULL) AND (auto_percent > (0)::numeric));

--
-- Name: segments_live_slug_key; Type: INDEX; Schema: segments; Owner: tally_owner
--

CREATE UNIQUE INDEX segments_live_slug_key ON segments.segments USING btree (slug) WHERE (deleted_at IS NULL);

--
-- Name: addresses_one_primary_per_user; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE UNIQUE INDEX addresses_one_primary_per_user ON shop.addresses USING btree (user_id) WHERE is_primary;

--
-- Name: categories_name_key; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE UNIQUE INDEX categories_name_key ON shop.categories USING btree (lower(name));

--
-- Name: order_items_product_idx; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE INDEX order_items_product_idx ON shop.order_items USING btree (product_id);

--
-- Name: orders_address_idx; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE INDEX orders_address_idx ON shop.orders USING btree (delivery_address_id, user_id);

--
-- Name: orders_created_idx; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE INDEX orders_created_idx ON shop.orders USING btree (created_at DESC, id DESC);

--
-- Name: orders_user_created_idx; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE INDEX orders_user_created_idx ON shop.orders USING btree (user_id, created_at DESC, id DESC);

--
-- Name: products_category_idx; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE INDEX products_category_idx ON shop.products USING btree (category_id);

--
-- Name: products_price_idx; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE INDEX products_price_idx ON shop.products USING btree (price);

--
-- Name: users_email_key; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE UNIQUE INDEX users_email_key ON shop.users USING btree (email);

--
-- Name: users_username_key; Type: INDEX; Schema: shop; Owner: tally_owner
--

CREATE UNIQUE INDEX users_username_key ON shop.users USING btree (lower(username));

--
-- Name: api_keys_live_name; Type: INDEX; Schema: tally; Owner: tally_owner
--

CREATE UNIQUE INDEX api_keys_live_name ON tally.api_keys USING btree (name) WHERE (revoked_at IS NULL);

--
-- Name: idempotency_keys_created_at; Type: INDEX; Schema: tally; Owner: tally_owner
--

CREATE INDEX idempotency_keys_created_at ON tally.idempotency_keys USING btree (created_at);

--
-- Name: job_runs_job_scheduled_for_idx; Type: INDEX; Schema: tally; Owner: tally_owner
--

CREATE INDEX job_runs_job_scheduled_for_idx ON tally.job_runs USING btree (job, scheduled_for DESC);

--
-- Name: job_runs_once_per_schedule; Type: INDEX; Schema: tally; Owner: tally_owner
--

CREATE UNIQUE INDEX job_runs_once_per_schedule ON tally.job_runs USING btree (job, scheduled_for) WHERE (outcome = ANY (ARRAY['running'::text, 'succeeded'::text]));

--
-- Name: minute_counts_default_pkey; Type: INDEX ATTACH; Schema: clicks; Owner: tally_owner
--

ALTER INDEX clicks.minute_counts_pkey ATTACH PARTITION clicks.minute_counts_default_pkey;

--
-- Name: bookings bookings_count_seats_delete; Type: TRIGGER; Schema: booking; Owner: tally_owner
--

CREATE TRIGGER bookings_count_seats_delete AFTER DELETE ON booking.bookings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION booking.tg_bookings__count_seats();

--
-- Name: bookings bookings_count_seats_insert; Type: TRIGGER; Schema: booking; Owner: tally_owner
--

CREATE TRIGGER bookings_count_seats_insert AFTER INSERT ON booking.bookings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION booking.tg_bookings__count_seats();

--
-- Name: bookings bookings_count_seats_update; Type: TRIGGER; Schema: booking; Owner: tally_owner
--

CREATE TRIGGER bookings_count_seats_update AFTER UPDATE ON booking.bookings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION booking.tg_bookings__count_seats();

--
-- Name: events events_announce_delete; Type: TRIGGER; Schema: booking; Owner: tally_owner
--

CREATE TRIGGER events_announce_delete AFTER DELETE ON booking.events REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_cached_rows__announce('booking.event');

--
-- Name: events events_announce_update; Type: TRIGGER; Schema: booking; Owner: tally_owner
--

CREATE TRIGGER events_announce_update AFTER UPDATE ON booking.events REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_cached_rows__announce('booking.event');

--
-- Name: order_items order_items_statistics; Type: TRIGGER; Schema: shop; Owner: tally_owner
--

CREATE TRIGGER order_items_statistics AFTER INSERT ON shop.order_items REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION shop.tg_order_items__statistics();

--
-- Name: products products_announce_delete; Type: TRIGGER; Schema: shop; Owner: tally_owner
--

CREATE TRIGGER products_announce_delete AFTER DELETE ON shop.products REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_cached_rows__announce('shop.product');

--
-- Name: products products_announce_update; Type: TRIGGER; Schema: shop; Owner: tally_owner
--

CREATE TRIGGER products_announce_update AFTER UPDATE ON shop.products REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_cached_rows__announce('shop.product');

--
-- Name: users users_announce_delete; Type: TRIGGER; Schema: shop; Owner: tally_owner
--

CREATE TRIGGER users_announce_delete AFTER DELETE ON shop.users REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_cached_rows__announce('shop.user');

--
-- Name: users users_announce_update; Type: TRIGGER; Schema: shop; Owner: tally_owner
--

CREATE TRIGGER users_announce_update AFTER UPDATE ON shop.users REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tally.tg_cached_rows__announce('shop.user');

--
-- Name: bookings bookings_event_fk; Type: FK CONSTRAINT; Schema: booking; Owner: tally_owner
--

ALTER TABLE ONLY booking.bookings
    ADD CONSTRAINT bookings_event_fk FOREIGN KEY (event_id) REFERENCES booking.events(id);

--
-- Name: minute_counts minute_counts_banner_fk; Type: FK CONSTRAINT; Schema: clicks; Owner: tally_owner
--

ALTER TABLE clicks.minute_counts
    ADD CONSTRAINT minute_counts_banner_fk FOREIGN KEY (banner_id) REFERENCES clicks.banners(id);

--
-- Name: addresses addresses_user_fk; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.addresses
    ADD CONSTRAINT addresses_user_fk FOREIGN KEY (user_id) REFERENCES shop.users(id) ON DELETE CASCADE;

--
-- Name: order_items order_items_order_fk; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.order_items
    ADD CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES shop.orders(id);

--
-- Name: order_items order_items_product_fk; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.order_items
    ADD CONSTRAINT order_items_product_fk FOREIGN KEY (product_id) REFERENCES shop.products(id);

--
-- Name: orders orders_address_is_users; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.orders
    ADD CONSTRAINT orders_address_is_users FOREIGN KEY (delivery_address_id, user_id) REFERENCES shop.addresses(id, user_id);

--
-- Name: orders orders_user_fk; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.orders
    ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES shop.users(id);

--
-- Name: products products_category_fk; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.products
    ADD CONSTRAINT products_category_fk FOREIGN KEY (category_id) REFERENCES shop.categories(id);

--
-- Name: report_publications report_publications_outbox_fk; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.report_publications
    ADD CONSTRAINT report_publications_outbox_fk FOREIGN KEY (outbox_id) REFERENCES shop.report_outbox(id);

--
-- Name: reports reports_order_fk; Type: FK CONSTRAINT; Schema: shop; Owner: tally_owner
--

ALTER TABLE ONLY shop.reports
    ADD CONSTRAINT reports_order_fk FOREIGN KEY (order_id) REFERENCES shop.orders(id);

--
-- Name: SCHEMA booking; Type: ACL; Schema: -; Owner: tally_owner
--

GRANT USAGE ON SCHEMA booking TO tally_app;

--
-- Name: SCHEMA clicks; Type: ACL; Schema: -; Owner: tally_owner
--

GRANT USAGE ON SCHEMA clicks TO tally_app;
GRANT USAGE ON SCHEMA clicks TO tally_jobs;

--
-- Name: SCHEMA segments; Type: ACL; Schema: -; Owner: tally_owner
--

GRANT USAGE ON SCHEMA segments TO tally_app;
GRANT USAGE ON SCHEMA segments TO tally_jobs;

--
-- Name: SCHEMA shop; Type: ACL; Schema: -; Owner: tally_owner
--

GRANT USAGE ON SCHEMA shop TO tally_app;
GRANT USAGE ON SCHEMA shop TO tally_jobs;

--
-- Name: SCHEMA tally; Type: ACL; Schema: -; Owner: tally_owner
--

GRANT USAGE ON SCHEMA tally TO tally_app;
GRANT USAGE ON SCHEMA tally TO tally_jobs;

--
-- Name: FUNCTION cancel_booking(p_booking_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.cancel_booking(p_booking_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.cancel_booking(p_booking_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION create_event(p_name text, p_total_seats integer, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.create_event(p_name text, p_total_seats integer, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.create_event(p_name text, p_total_seats integer, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION get_booking(p_booking_id bigint); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.get_booking(p_booking_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.get_booking(p_booking_id bigint) TO tally_app;

--
-- Name: FUNCTION get_event(p_event_id bigint); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.get_event(p_event_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.get_event(p_event_id bigint) TO tally_app;

--
-- Name: FUNCTION list_events(p_after_id bigint, p_page_size integer); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.list_events(p_after_id bigint, p_page_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.list_events(p_after_id bigint, p_page_size integer) TO tally_app;

--
-- Name: FUNCTION reserve_seat(p_event_id bigint, p_user_id text, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.reserve_seat(p_event_id bigint, p_user_id text, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.reserve_seat(p_event_id bigint, p_user_id text, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION reserve_seats(p_event_ids bigint[], p_user_ids text[], p_idempotency_keys text[], p_idempotency_scopes text[]); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.reserve_seats(p_event_ids bigint[], p_user_ids text[], p_idempotency_keys text[], p_idempotency_scopes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.reserve_seats(p_event_ids bigint[], p_user_ids text[], p_idempotency_keys text[], p_idempotency_scopes text[]) TO tally_app;

--
-- Name: FUNCTION tg_bookings__count_seats(); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.tg_bookings__count_seats() FROM PUBLIC;

--
-- Name: FUNCTION user_booking_stats(p_user_id text); Type: ACL; Schema: booking; Owner: tally_owner
--

REVOKE ALL ON FUNCTION booking.user_booking_stats(p_user_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION booking.user_booking_stats(p_user_id text) TO tally_app;

--
-- Name: FUNCTION create_banner(p_name text, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.create_banner(p_name text, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.create_banner(p_name text, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION get_banner(p_banner_id bigint); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.get_banner(p_banner_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.get_banner(p_banner_id bigint) TO tally_app;

--
-- Name: FUNCTION ingest_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.ingest_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.ingest_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION list_banners(p_after_id bigint, p_page_size integer); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.list_banners(p_after_id bigint, p_page_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.list_banners(p_after_id bigint, p_page_size integer) TO tally_app;

--
-- Name: FUNCTION maintain_partitions(p_at timestamp with time zone); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.maintain_partitions(p_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.maintain_partitions(p_at timestamp with time zone) TO tally_jobs;

--
-- Name: FUNCTION record_click(p_banner_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.record_click(p_banner_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.record_click(p_banner_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION record_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_keys text[], p_idempotency_scopes text[]); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.record_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_keys text[], p_idempotency_scopes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.record_clicks(p_banner_ids bigint[], p_counts integer[], p_occurred_ats timestamp with time zone[], p_idempotency_keys text[], p_idempotency_scopes text[]) TO tally_app;

--
-- Name: FUNCTION stats(p_banner_id bigint, p_from timestamp with time zone, p_to timestamp with time zone); Type: ACL; Schema: clicks; Owner: tally_owner
--

REVOKE ALL ON FUNCTION clicks.stats(p_banner_id bigint, p_from timestamp with time zone, p_to timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION clicks.stats(p_banner_id bigint, p_from timestamp with time zone, p_to timestamp with time zone) TO tally_app;

--
-- Name: FUNCTION _auto_bucket(p_user_id bigint, p_slug text); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments._auto_bucket(p_user_id bigint, p_slug text) FROM PUBLIC;

--
-- Name: FUNCTION _auto_member(p_user_id bigint, p_slug text, p_auto_percent numeric); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments._auto_member(p_user_id bigint, p_slug text, p_auto_percent numeric) FROM PUBLIC;

--
-- Name: FUNCTION _check_slug(p_slug text, p_field text); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments._check_slug(p_slug text, p_field text) FROM PUBLIC;

--
-- Name: FUNCTION _derived_adds(p_from timestamp with time zone, p_to timestamp with time zone, p_user_id bigint); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments._derived_adds(p_from timestamp with time zone, p_to timestamp with time zone, p_user_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION _derived_memberships(); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments._derived_memberships() FROM PUBLIC;

--
-- Name: FUNCTION _end_expired(p_user_ids bigint[], p_now timestamp with time zone); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments._end_expired(p_user_ids bigint[], p_now timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION _lock_user(p_user_id bigint); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments._lock_user(p_user_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION create_segment(p_slug text, p_auto_percent numeric, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.create_segment(p_slug text, p_auto_percent numeric, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.create_segment(p_slug text, p_auto_percent numeric, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION create_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.create_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.create_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION delete_segment(p_slug text, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.delete_segment(p_slug text, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.delete_segment(p_slug text, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION expire_memberships(p_scheduled_at timestamp with time zone, p_max_users integer); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.expire_memberships(p_scheduled_at timestamp with time zone, p_max_users integer) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.expire_memberships(p_scheduled_at timestamp with time zone, p_max_users integer) TO tally_jobs;

--
-- Name: FUNCTION export_history(p_year integer, p_month integer, p_user_id bigint); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.export_history(p_year integer, p_month integer, p_user_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.export_history(p_year integer, p_month integer, p_user_id bigint) TO tally_app;

--
-- Name: FUNCTION update_user_segments(p_user_id bigint, p_add_slugs text[], p_remove_slugs text[], p_add_expires_at timestamp with time zone[], p_add_ttls interval[], p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.update_user_segments(p_user_id bigint, p_add_slugs text[], p_remove_slugs text[], p_add_expires_at timestamp with time zone[], p_add_ttls interval[], p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.update_user_segments(p_user_id bigint, p_add_slugs text[], p_remove_slugs text[], p_add_expires_at timestamp with time zone[], p_add_ttls interval[], p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION update_user_segments_batch(p_user_ids bigint[], p_slug_items integer[], p_slugs text[], p_is_adds boolean[], p_expires_ats timestamp with time zone[], p_ttls interval[], p_idempotency_keys text[], p_idempotency_scopes text[]); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.update_user_segments_batch(p_user_ids bigint[], p_slug_items integer[], p_slugs text[], p_is_adds boolean[], p_expires_ats timestamp with time zone[], p_ttls interval[], p_idempotency_keys text[], p_idempotency_scopes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.update_user_segments_batch(p_user_ids bigint[], p_slug_items integer[], p_slugs text[], p_is_adds boolean[], p_expires_ats timestamp with time zone[], p_ttls interval[], p_idempotency_keys text[], p_idempotency_scopes text[]) TO tally_app;

--
-- Name: FUNCTION user_segments(p_user_id bigint); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.user_segments(p_user_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.user_segments(p_user_id bigint) TO tally_app;

--
-- Name: FUNCTION user_segments_batch(p_user_ids bigint[]); Type: ACL; Schema: segments; Owner: tally_owner
--

REVOKE ALL ON FUNCTION segments.user_segments_batch(p_user_ids bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION segments.user_segments_batch(p_user_ids bigint[]) TO tally_app;

--
-- Name: FUNCTION _check_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._check_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]) FROM PUBLIC;

--
-- Name: FUNCTION _check_page(p_count integer, p_page integer); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._check_page(p_count integer, p_page integer) FROM PUBLIC;

--
-- Name: FUNCTION _check_product(p_name text, p_description text, p_price numeric, p_stock integer, p_category_id bigint, p_new boolean); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._check_product(p_name text, p_description text, p_price numeric, p_stock integer, p_category_id bigint, p_new boolean) FROM PUBLIC;

--
-- Name: FUNCTION _check_user(p_username text, p_email text, p_description text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._check_user(p_username text, p_email text, p_description text) FROM PUBLIC;

--
-- Name: FUNCTION _delete_unless_ordered(p_kind text, p_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._delete_unless_ordered(p_kind text, p_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;

--
-- Name: FUNCTION _item_json(p_product_id bigint, p_quantity bigint, p_price_at_order numeric); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._item_json(p_product_id bigint, p_quantity bigint, p_price_at_order numeric) FROM PUBLIC;

--
-- Name: FUNCTION _lock_products(p_product_ids bigint[]); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._lock_products(p_product_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION _orders_with_items(p_order_ids bigint[]); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._orders_with_items(p_order_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION _parse_price(p_price text, p_field text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._parse_price(p_price text, p_field text) FROM PUBLIC;

--
-- Name: FUNCTION _place_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._place_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[]) FROM PUBLIC;

--
-- Name: FUNCTION _raise_user_taken(p_constraint text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._raise_user_taken(p_constraint text) FROM PUBLIC;

--
-- Name: FUNCTION _save_product(p_product_id bigint, p_name text, p_description text, p_price numeric, p_stock_quantity integer, p_category_id bigint); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._save_product(p_product_id bigint, p_name text, p_description text, p_price numeric, p_stock_quantity integer, p_category_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION _save_user(p_user_id bigint, p_username text, p_email text, p_description text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._save_user(p_user_id bigint, p_username text, p_email text, p_description text) FROM PUBLIC;

--
-- Name: FUNCTION _take_stock(p_product_ids bigint[], p_quantities bigint[], OUT product_ids bigint[], OUT prices numeric[], OUT category_ids bigint[]); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop._take_stock(p_product_ids bigint[], p_quantities bigint[], OUT product_ids bigint[], OUT prices numeric[], OUT category_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION add_address(p_user_id bigint, p_street text, p_city text, p_state text, p_zip_code text, p_country text, p_is_primary boolean, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.add_address(p_user_id bigint, p_street text, p_city text, p_state text, p_zip_code text, p_country text, p_is_primary boolean, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.add_address(p_user_id bigint, p_street text, p_city text, p_state text, p_zip_code text, p_country text, p_is_primary boolean, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION create_category(p_name text, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.create_category(p_name text, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.create_category(p_name text, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION create_order(p_user_id bigint, p_delivery_address_id bigint, p_product_ids bigint[], p_quantities integer[], p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.create_order(p_user_id bigint, p_delivery_address_id bigint, p_product_ids bigint[], p_quantities integer[], p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.create_order(p_user_id bigint, p_delivery_address_id bigint, p_product_ids bigint[], p_quantities integer[], p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION create_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[], p_idempotency_keys text[], p_idempotency_scopes text[]); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.create_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[], p_idempotency_keys text[], p_idempotency_scopes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.create_orders(p_user_ids bigint[], p_delivery_address_ids bigint[], p_line_orders integer[], p_product_ids bigint[], p_quantities integer[], p_idempotency_keys text[], p_idempotency_scopes text[]) TO tally_app;

--
-- Name: FUNCTION create_product(p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.create_product(p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.create_product(p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION create_user(p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.create_user(p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.create_user(p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION delete_product(p_product_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.delete_product(p_product_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.delete_product(p_product_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.delete_user(p_user_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION fold_statistics(); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.fold_statistics() FROM PUBLIC;
GRANT ALL ON FUNCTION shop.fold_statistics() TO tally_jobs;

--
-- Name: FUNCTION generate_daily_reports(p_day date); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.generate_daily_reports(p_day date) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.generate_daily_reports(p_day date) TO tally_jobs;

--
-- Name: FUNCTION get_order(p_order_id bigint); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.get_order(p_order_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.get_order(p_order_id bigint) TO tally_app;

--
-- Name: FUNCTION get_product(p_product_id bigint); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.get_product(p_product_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.get_product(p_product_id bigint) TO tally_app;

--
-- Name: FUNCTION get_reports(p_report_date date); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.get_reports(p_report_date date) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.get_reports(p_report_date date) TO tally_app;

--
-- Name: FUNCTION get_sales_statistics(p_category_id bigint, p_date_from date, p_date_to date); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.get_sales_statistics(p_category_id bigint, p_date_from date, p_date_to date) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.get_sales_statistics(p_category_id bigint, p_date_from date, p_date_to date) TO tally_app;

--
-- Name: FUNCTION get_user(p_user_id bigint); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.get_user(p_user_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.get_user(p_user_id bigint) TO tally_app;

--
-- Name: FUNCTION list_addresses(p_user_id bigint); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.list_addresses(p_user_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.list_addresses(p_user_id bigint) TO tally_app;

--
-- Name: FUNCTION list_categories(); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.list_categories() FROM PUBLIC;
GRANT ALL ON FUNCTION shop.list_categories() TO tally_app;

--
-- Name: FUNCTION list_orders(p_user_id bigint, p_status shop.order_status, p_count integer, p_page integer); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.list_orders(p_user_id bigint, p_status shop.order_status, p_count integer, p_page integer) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.list_orders(p_user_id bigint, p_status shop.order_status, p_count integer, p_page integer) TO tally_app;

--
-- Name: FUNCTION list_products(p_count integer, p_page integer, p_name_contains text, p_min_price text, p_max_price text, p_category_id bigint); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.list_products(p_count integer, p_page integer, p_name_contains text, p_min_price text, p_max_price text, p_category_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.list_products(p_count integer, p_page integer, p_name_contains text, p_min_price text, p_max_price text, p_category_id bigint) TO tally_app;

--
-- Name: FUNCTION list_users(p_count integer, p_page integer); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.list_users(p_count integer, p_page integer) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.list_users(p_count integer, p_page integer) TO tally_app;

--
-- Name: FUNCTION mark_reports_published(p_queue text, p_published bigint[], p_limit integer); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.mark_reports_published(p_queue text, p_published bigint[], p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.mark_reports_published(p_queue text, p_published bigint[], p_limit integer) TO tally_jobs;

--
-- Name: FUNCTION report_summaries_after(p_after_id bigint, p_limit integer); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.report_summaries_after(p_after_id bigint, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.report_summaries_after(p_after_id bigint, p_limit integer) TO tally_app;

--
-- Name: FUNCTION tg_order_items__statistics(); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.tg_order_items__statistics() FROM PUBLIC;

--
-- Name: FUNCTION update_order_status(p_order_id bigint, p_status shop.order_status, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.update_order_status(p_order_id bigint, p_status shop.order_status, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.update_order_status(p_order_id bigint, p_status shop.order_status, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION update_product(p_product_id bigint, p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.update_product(p_product_id bigint, p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.update_product(p_product_id bigint, p_name text, p_description text, p_price text, p_stock_quantity integer, p_category_id bigint, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION update_user(p_user_id bigint, p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text); Type: ACL; Schema: shop; Owner: tally_owner
--

REVOKE ALL ON FUNCTION shop.update_user(p_user_id bigint, p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION shop.update_user(p_user_id bigint, p_username text, p_email text, p_description text, p_idempotency_key text, p_idempotency_scope text) TO tally_app;

--
-- Name: FUNCTION _check_page_size(p_page_size integer); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._check_page_size(p_page_size integer) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_claim(p_scope text, p_key text, p_name text, p_args jsonb); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_claim(p_scope text, p_key text, p_name text, p_args jsonb) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_finish(p_plan tally.idempotent_plan, p_done jsonb[]); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_finish(p_plan tally.idempotent_plan, p_done jsonb[]) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_keep(p_plan tally.idempotent_plan, p_outcomes jsonb[]); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_keep(p_plan tally.idempotent_plan, p_outcomes jsonb[]) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_key_valid(p_scope text, p_key text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_key_valid(p_scope text, p_key text) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_lock(p_scope text, p_key text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_lock(p_scope text, p_key text) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_plan(p_scopes text[], p_keys text[], p_requests text[]); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_plan(p_scopes text[], p_keys text[], p_requests text[]) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_record(p_outcome jsonb); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_record(p_outcome jsonb) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_requests(p_name text, VARIADIC p_columns jsonb[]); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_requests(p_name text, VARIADIC p_columns jsonb[]) FROM PUBLIC;

--
-- Name: FUNCTION _idempotent_token(p_scope text, p_key text, p_request_hash bytea, p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._idempotent_token(p_scope text, p_key text, p_request_hash bytea, p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) FROM PUBLIC;

--
-- Name: FUNCTION _pick(p_values anyarray, p_ords integer[]); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._pick(p_values anyarray, p_ords integer[]) FROM PUBLIC;

--
-- Name: FUNCTION _remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally._remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) FROM PUBLIC;

--
-- Name: FUNCTION authenticate_api_key(p_key text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.authenticate_api_key(p_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.authenticate_api_key(p_key text) TO tally_app;

--
-- Name: FUNCTION begin_job_run(p_job text, p_scheduled_for timestamp with time zone, p_runner text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.begin_job_run(p_job text, p_scheduled_for timestamp with time zone, p_runner text) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.begin_job_run(p_job text, p_scheduled_for timestamp with time zone, p_runner text) TO tally_jobs;

--
-- Name: FUNCTION check_fence(p_name text, p_token bigint); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.check_fence(p_name text, p_token bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.check_fence(p_name text, p_token bigint) TO tally_jobs;

--
-- Name: FUNCTION check_id(p_id bigint, p_field text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.check_id(p_id bigint, p_field text) FROM PUBLIC;

--
-- Name: FUNCTION create_api_key(p_name text, p_scopes text[]); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.create_api_key(p_name text, p_scopes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.create_api_key(p_name text, p_scopes text[]) TO tally_operator;

--
-- Name: FUNCTION finish_job_run(p_id bigint); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.finish_job_run(p_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.finish_job_run(p_id bigint) TO tally_jobs;

--
-- Name: FUNCTION last_job_success(p_job text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.last_job_success(p_job text) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.last_job_success(p_job text) TO tally_jobs;

--
-- Name: FUNCTION purge_idempotency_keys(p_at timestamp with time zone, p_window interval); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.purge_idempotency_keys(p_at timestamp with time zone, p_window interval) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.purge_idempotency_keys(p_at timestamp with time zone, p_window interval) TO tally_jobs;

--
-- Name: FUNCTION raise_error(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.raise_error(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) FROM PUBLIC;

--
-- Name: FUNCTION raise_not_found(p_thing text, p_id bigint); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.raise_not_found(p_thing text, p_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION record_failed_job_run(p_job text, p_scheduled_for timestamp with time zone, p_started_at timestamp with time zone, p_error text, p_runner text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.record_failed_job_run(p_job text, p_scheduled_for timestamp with time zone, p_started_at timestamp with time zone, p_error text, p_runner text) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.record_failed_job_run(p_job text, p_scheduled_for timestamp with time zone, p_started_at timestamp with time zone, p_error text, p_runner text) TO tally_jobs;

--
-- Name: FUNCTION remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.remember_failure(p_sqlstate text, p_reason text, p_message text, p_field text, p_hint text) TO tally_app;

--
-- Name: FUNCTION revoke_api_key(p_name text); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.revoke_api_key(p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION tally.revoke_api_key(p_name text) TO tally_operator;

--
-- Name: FUNCTION tg_cached_rows__announce(); Type: ACL; Schema: tally; Owner: tally_owner
--

REVOKE ALL ON FUNCTION tally.tg_cached_rows__announce() FROM PUBLIC;

--
-- Name: TABLE statistics; Type: ACL; Schema: shop; Owner: tally_owner
--

GRANT SELECT ON TABLE shop.statistics TO tally_app;

--
-- Name: TABLE job_runs_view; Type: ACL; Schema: tally; Owner: tally_owner
--

GRANT SELECT ON TABLE tally.job_runs_view TO tally_jobs;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: tally_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE tally_owner REVOKE ALL ON FUNCTIONS  FROM PUBLIC;
