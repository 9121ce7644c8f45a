-- mark_reports_published(queue, published[], limit = 100): records the outbox ids in
-- `published` as published to `queue` (the broker confirmed them), then returns the next
-- summaries not yet published there, oldest first: what the AMQP bridge publishes next.
-- Called with no ids it only answers. An id recorded twice is kept once.
-- TLIA1 QUEUE_INVALID (not 1-255 bytes), LIMIT_INVALID (1-1000); TLNF1
-- REPORT_SUMMARY_NOT_FOUND (an id that is not in the outbox).
create function shop.mark_reports_published(p_queue text, p_published bigint[],
                                             p_limit integer default 100)
returns table (id bigint, report_date date, reports_count integer, reports jsonb,
               created_at timestamptz)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
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
$fn$;

grant execute on function shop.mark_reports_published(text, bigint[], integer) to tally_jobs;
