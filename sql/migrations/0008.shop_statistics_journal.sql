-- Sales statistics become a journal and its totals (issue 5: the trigger at maximum
-- performance, no lost updates, no deadlocks).
-- depends: 0005.shop
--
-- Before, the trigger upserted into a stripe of shop.statistics_shards chosen by
-- pg_backend_pid() % 256. Two backends can share a stripe, and a transaction that
-- inserts lines in several statements locks its keys statement by statement, so two
-- such transactions on one stripe could deadlock. An upsert also costs a row lock and an
-- update, where a journal entry is one insert.
--
-- Now:
--   shop.statistics_journal: the trigger appends one row per (category, day) per INSERT
--     statement. Appending locks nothing that another transaction holds, so orders never
--     wait on each other here and cannot deadlock here.
--   shop.statistics_totals: one row per (day, category). shop.fold_statistics() moves the
--     journal into it in one statement (a scheduled job runs it every minute).
--   shop.statistics (the view) = totals + journal: exact in every snapshot, folded or not.

create table shop.statistics_journal (
    category_id  bigint not null,
    report_date  date   not null,
    items_sold   bigint not null,
    orders_count bigint not null
);
comment on table shop.statistics_journal is
    'Sales statistics not yet folded into shop.statistics_totals: one row per (category, day) per INSERT into shop.order_items.';

create table shop.statistics_totals (
    report_date  date   not null,
    category_id  bigint not null,
    items_sold   bigint not null,
    orders_count bigint not null,
    constraint statistics_totals_pkey primary key (report_date, category_id)
);
comment on table shop.statistics_totals is
    'Sales statistics folded from shop.statistics_journal by shop.fold_statistics(): one row per (day, category).';

-- What the stripes held, summed per key. The view over the stripes is a repeatable
-- object; it is created again, over the new tables, after this migration.
drop view if exists shop.statistics;
insert into shop.statistics_totals (report_date, category_id, items_sold, orders_count)
select s.report_date, s.category_id, sum(s.items_sold), sum(s.orders_count)
  from shop.statistics_shards s
 group by s.report_date, s.category_id;
drop table shop.statistics_shards;

-- The trigger function is repeatable SQL (sql/shop/), re-created right after the
-- migrations; until then, orders placed meanwhile need a body that does not name the
-- dropped table. This one is the same as the repeatable one.
create or replace function shop.tg_order_items__statistics()
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
