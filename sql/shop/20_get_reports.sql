-- get_reports(report_date): the report rows of that day, by order id (none until the day
-- has been generated). TLIA1 DAY_INVALID (null).
create function shop.get_reports(p_report_date date)
returns table (id bigint, report_at date, order_id bigint, count_product integer)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
begin
    if p_report_date is null then
        perform tally.raise_error('TLIA1', 'DAY_INVALID', 'report_date is required', 'report_date');
    end if;
    return query
        select r.id, r.report_at, r.order_id, r.count_product
          from shop.reports r where r.report_at = p_report_date order by r.order_id;
end
$fn$;

grant execute on function shop.get_reports(date) to tally_app;
