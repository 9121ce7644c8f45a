-- shop's functions: the API (executable by tally_app) and the private rest; tables are private.
begin;
select plan(5);

select functions_are('shop', array[
    '_check_orders', '_check_page', '_check_product', '_check_user', '_delete_unless_ordered',
    '_item_json',
    '_lock_products', '_orders_with_items', '_parse_price', '_place_orders', '_raise_user_taken', '_save_product',
    '_save_user',
    '_take_stock', 'add_address', 'create_category', 'create_order', 'create_orders',
    'create_product', 'create_user', 'delete_product', 'delete_user', 'fold_statistics',
    'generate_daily_reports', 'get_order', 'get_product', 'get_reports', 'get_sales_statistics', 'get_user', 'list_addresses',
    'list_categories', 'list_orders', 'list_products', 'list_users', 'mark_reports_published',
    'report_summaries_after', 'tg_order_items__statistics',
    'update_order_status', 'update_product', 'update_user']);
select is(
    array(select p.proname::text from pg_proc p
           where p.pronamespace = 'shop'::regnamespace
             and has_function_privilege('tally_app', p.oid, 'EXECUTE') order by 1),
    array['add_address', 'create_category', 'create_order', 'create_orders', 'create_product',
          'create_user',
          'delete_product', 'delete_user',
          'get_order', 'get_product',
          'get_reports', 'get_sales_statistics', 'get_user', 'list_addresses', 'list_categories',
          'list_orders', 'list_products', 'list_users', 'report_summaries_after',
          'update_order_status', 'update_product', 'update_user'],
    'tally_app may execute exactly the API functions');
select tables_are('shop', array['addresses', 'categories', 'order_items', 'orders', 'products',
                                'report_outbox', 'report_publications', 'reports', 'statistics_journal',
                                'statistics_totals', 'users']);
select is(
    array(select c.relname::text from pg_class c
           where c.relnamespace = 'shop'::regnamespace and c.relkind = 'r'
             and (has_table_privilege('tally_app', c.oid, 'SELECT')
                  or has_table_privilege('tally_app', c.oid, 'INSERT')
                  or has_table_privilege('tally_app', c.oid, 'UPDATE')
                  or has_table_privilege('tally_app', c.oid, 'DELETE'))),
    '{}'::text[], 'tally_app has no privilege on any shop table');
select ok(has_table_privilege('tally_app', 'shop.statistics', 'SELECT'),
          'tally_app may read the published view shop.statistics');

select * from finish();
rollback;
