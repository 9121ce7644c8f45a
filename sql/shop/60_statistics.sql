-- shop.statistics: per category and day, the items sold and the number of orders that
-- contain the category - the folded totals plus the journal not yet folded, so it is
-- exact in every snapshot. Published: tally_app may SELECT it (e.g. from psql).
create view shop.statistics as
select s.category_id, s.report_date, sum(s.items_sold)::bigint as items_sold,
       sum(s.orders_count)::bigint as orders_count
  from (select t.category_id, t.report_date, t.items_sold, t.orders_count
          from shop.statistics_totals t
        union all
        select j.category_id, j.report_date, j.items_sold, j.orders_count
          from shop.statistics_journal j) s
 group by s.category_id, s.report_date;

grant select on shop.statistics to tally_app;
