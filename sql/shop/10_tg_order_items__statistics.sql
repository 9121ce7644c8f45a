-- Sales statistics follow shop.order_items with one statement-level upsert per INSERT
-- statement (not per row): the new lines are aggregated per (category, day) - items sold
-- and distinct orders - and added to this backend's stripe of each key, keys in sorted
-- order (concurrent statements cannot deadlock), ON CONFLICT adding to what is there
-- (no lost updates). The stripe is pg_backend_pid() % 256: concurrent transactions on one
-- hot (category, day) mostly write different rows instead of queueing on one.
-- Everything the trigger needs (category_id, order_day) is on the line: no lookups.
-- An order's lines are inserted by one statement, so "distinct orders" is exact.
-- Statistics count placed orders; cancellations and deletions leave them alone.
create function shop.tg_order_items__statistics()
returns trigger
language plpgsql
as $fn$
begin
    insert into shop.statistics_shards as s (category_id, report_date, shard, items_sold, orders_count)
    select n.category_id, n.order_day, pg_backend_pid() % 256, sum(n.quantity), count(distinct n.order_id)
      from new_rows n
     group by n.category_id, n.order_day
     order by n.category_id, n.order_day
    on conflict (category_id, report_date, shard) do update
       set items_sold = s.items_sold + excluded.items_sold,
           orders_count = s.orders_count + excluded.orders_count;
    return null;
end
$fn$;

create trigger order_items_statistics
    after insert on shop.order_items
    referencing new table as new_rows
    for each statement execute function shop.tg_order_items__statistics();
