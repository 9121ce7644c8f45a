-- shop.statistics: per category and day, the items sold and the number of orders that
-- contain the category - the sum of the stripes in shop.statistics_shards. Published:
-- tally_app may SELECT it (e.g. from psql).
create view shop.statistics as
select s.category_id, s.report_date, sum(s.items_sold)::bigint as items_sold,
       sum(s.orders_count)::bigint as orders_count
  from shop.statistics_shards s
 group by s.category_id, s.report_date;

grant select on shop.statistics to tally_app;
