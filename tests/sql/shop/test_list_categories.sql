-- list_categories: every category.
begin;
set local role tally_app;
select plan(1);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');
select ok((select count(*) from shop.list_categories() where name in ('tap-Tools', 'tap-Toys')) = 2,
    'list_categories');

select * from finish();
rollback;
