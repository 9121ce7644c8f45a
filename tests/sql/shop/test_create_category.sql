-- create_category: names are unique regardless of case, 1 to 100 characters.
begin;
set local role tally_app;
select plan(3);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');
select throws_ok($$select shop.create_category('TAP-TOOLS')$$, 'TLAE1', 'category TAP-TOOLS already exists',
    'category names are unique regardless of case');
select throws_ok($$select shop.create_category('')$$, 'TLIA1', 'name must be 1 to 100 characters', 'empty name');
select throws_ok($$select shop.create_category(null)$$, 'TLIA1', null, 'null name');

select * from finish();
rollback;
