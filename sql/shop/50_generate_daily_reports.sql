-- generate_daily_reports(day): one report row per order created on that UTC day
-- (count_product = the sum of its quantities, cancelled orders included), and in the same
-- transaction the day's summary {report_date, reports_count, reports} in the outbox
-- shop.report_outbox, announced with NOTIFY shop_reports (payload: the outbox id).
-- Idempotent: a day already summarised gets nothing new (unique keys, ON CONFLICT DO
-- NOTHING); returns the day's outbox row and whether this call created it.
-- Runs are serialised by an advisory lock, so outbox ids are committed in id order and a
-- subscriber resuming "after id N" can never skip a summary. TLIA1 DAY_INVALID (null),
-- TLFP1 DAY_NOT_ENDED (today or a later UTC day: its summary would be incomplete).
create function shop.generate_daily_reports(p_day date)
returns table (outbox_id bigint, report_date date, reports_count integer, created boolean)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
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
$fn$;

grant execute on function shop.generate_daily_reports(date) to tally_jobs;
