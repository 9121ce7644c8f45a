-- report_summaries_after(after_id, limit = 100): outbox summaries with id > after_id, by id
-- (what WatchReports replays, and what a subscriber resumes from).
-- TLIA1 AFTER_ID_INVALID (< 0), LIMIT_INVALID (1-1000).
create function shop.report_summaries_after(p_after_id bigint, p_limit integer default 100)
returns table (id bigint, report_date date, reports_count integer, reports jsonb,
               created_at timestamptz)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
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
$fn$;

grant execute on function shop.report_summaries_after(bigint, integer) to tally_app;
