-- stats(banner_id, ts_from, ts_to): the banner's clicks per minute (UTC) in [ts_from, ts_to),
-- both ends truncated to the minute: ascending, only minutes with clicks. The minute of
-- ts_to is not included (ask up to the next minute to include it).
--   TLIA1 BANNER_ID_INVALID, RANGE_INVALID (a bound is null or infinite),
--         RANGE_REVERSED (ts_from after ts_to), RANGE_EMPTY (the same minute),
--         RANGE_TOO_LONG (more than settings.max_stats_range, 31 days);
--   TLNF1 BANNER_NOT_FOUND.
-- Reads committed rows only: every acknowledged click is here at once.
create function clicks.stats(p_banner_id bigint, p_from timestamptz, p_to timestamptz)
returns table (minute timestamptz, clicks bigint)
language plpgsql
stable
security definer
set search_path = clicks, pg_temp
as $fn$
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
$fn$;

grant execute on function clicks.stats(bigint, timestamptz, timestamptz) to tally_app;
