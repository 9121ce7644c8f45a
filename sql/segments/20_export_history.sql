-- export_history(year, month, user_id): every add and remove of the month (UTC), oldest
-- first, as CSV-ready columns user_id, segment, operation, datetime (ISO 8601 UTC with
-- microseconds). Three sources, merged in time order:
--   * the stored rows of segments.history;
--   * the derived 'add' rows of automatic segments created in the month (_derived_adds:
--     the users present at a segment's creation), which are not stored;
--   * removals by expiry that expire_memberships has not written yet, at their expiry
--     time, so the export never waits for the sweep.
-- Ties in time: derived adds first (by segment id, then user id), then stored rows in
-- the order they were written, then unswept expiries (by segment id, then user id).
-- Optionally one user's rows only.
-- TLIA1 YEAR_INVALID, MONTH_INVALID, USER_ID_INVALID; TLNF1 USER_NOT_FOUND (never seen).
--   \copy (select * from segments.export_history(2023, 8)) to 'history.csv' with (format csv, delimiter ';', header)
create function segments.export_history(p_year integer, p_month integer,
                                        p_user_id bigint default null)
returns table (user_id bigint, segment text, operation text, datetime text)
language plpgsql
stable
security definer
set search_path = segments, pg_temp
-- Planned for the actual arguments on every call: a plan cached for a whole-month export
-- would scan every user for a one-user export's derived rows. Planning is cheap next to
-- an export.
set plan_cache_mode = force_custom_plan
as $fn$
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
$fn$;

grant execute on function segments.export_history(integer, integer, bigint) to tally_app;
