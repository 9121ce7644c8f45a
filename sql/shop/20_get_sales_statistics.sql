-- get_sales_statistics(category_id?, date_from, date_to): the statistics rows of the
-- category (or of every category) for the days date_from..date_to (inclusive), by day then
-- category, from the view shop.statistics (folded totals plus the journal not yet folded).
-- TLIA1 DATE_RANGE_INVALID (missing or reversed, or longer than 366 days).
create function shop.get_sales_statistics(p_category_id bigint, p_date_from date, p_date_to date)
returns table (category_id bigint, report_date date, items_sold bigint, orders_count bigint)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
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
$fn$;

grant execute on function shop.get_sales_statistics(bigint, date, date) to tally_app;
