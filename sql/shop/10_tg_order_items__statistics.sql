-- Sales statistics follow shop.order_items with one statement-level INSERT per INSERT
-- statement (not per row): the new lines are aggregated per (category, day) - items sold
-- and distinct orders - and appended to shop.statistics_journal. Appending takes no lock
-- another transaction holds: concurrent orders of one hot (category, day) never queue on
-- a row, cannot lose an update and cannot deadlock here. shop.fold_statistics() later
-- moves the journal into shop.statistics_totals; shop.statistics sums both.
-- Everything the trigger needs (category_id, order_day) is on the line: no lookups.
-- An order's lines are inserted by one statement, so "distinct orders" is exact.
-- Statistics count placed orders; cancellations and deletions leave them alone.
create function shop.tg_order_items__statistics()
returns trigger
language plpgsql
as $fn$
begin
    insert into shop.statistics_journal (category_id, report_date, items_sold, orders_count)
    select n.category_id, n.order_day, sum(n.quantity), count(distinct n.order_id)
      from new_rows n
     group by n.category_id, n.order_day;
    return null;
end
$fn$;

create trigger order_items_statistics
    after insert on shop.order_items
    referencing new table as new_rows
    for each statement execute function shop.tg_order_items__statistics();
