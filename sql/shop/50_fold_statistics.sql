-- fold_statistics(): moves shop.statistics_journal into shop.statistics_totals in one
-- statement - the journal rows it sees are deleted and their sums added to the totals,
-- keys in order - and returns how many journal rows it folded. shop.statistics does not
-- change: a reader sees the rows either in the journal or in the totals, never both and
-- never neither. Safe to run at any time and concurrently: rows appended meanwhile wait
-- for the next run, and a concurrent run skips the rows this one deleted. The job
-- shop.fold_statistics runs it every minute, which keeps the journal short for readers.
create function shop.fold_statistics()
returns bigint
language sql
security definer
set search_path = shop, pg_temp
as $fn$
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
$fn$;

grant execute on function shop.fold_statistics() to tally_jobs;
