-- clicks.create_banner and clicks.get_banner.
begin;
set local role tally_app;
select plan(9);

create temp table b on commit drop as select * from clicks.create_banner('Summer sale');
select ok((select id from b) > 0, 'a banner gets an id');
select results_eq($$select id, name from clicks.get_banner((select id from b))$$,
    $$select id, name from b$$, 'get_banner returns it');
select isnt((select created_at from b), null, 'with its creation time');
select lives_ok($$select clicks.create_banner(repeat('n', 200))$$, '200 characters');
select throws_ok($$select clicks.create_banner('')$$, 'TLIA1', 'name must be 1 to 200 characters', 'empty name');
select throws_ok($$select clicks.create_banner(repeat('n', 201))$$, 'TLIA1', null, '201 characters');
select throws_ok($$select clicks.create_banner(null)$$, 'TLIA1', null, 'null name');
select throws_ok($$select clicks.get_banner(9223372036854775807)$$, 'TLNF1',
    'banner 9223372036854775807 not found', 'unknown banner');
select throws_ok($$select clicks.get_banner(0)$$, 'TLIA1', 'banner_id must be a positive id', 'banner id 0');

select * from finish();
rollback;
