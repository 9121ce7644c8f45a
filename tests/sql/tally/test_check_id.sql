-- tally.check_id: an id is a positive integer; else TLIA1 <FIELD>_INVALID naming the field.
begin;
select plan(6);

select lives_ok($$select tally.check_id(1, 'user_id')$$, 'a positive id passes');
select lives_ok($$select tally.check_id(9223372036854775807, 'user_id')$$, 'the largest bigint passes');
select throws_ok($$select tally.check_id(0, 'user_id')$$, 'TLIA1', 'user_id must be a positive id', 'zero');
select throws_ok($$select tally.check_id(null, 'order_id')$$, 'TLIA1', 'order_id must be a positive id', 'null');
create temp table caught (detail text, col text) on commit drop;
do $$
declare d text; c text;
begin
    perform tally.check_id(-5, 'banner_id');
exception when sqlstate 'TLIA1' then
    get stacked diagnostics d = pg_exception_detail, c = column_name;
    insert into caught values (d, c);
end $$;
select results_eq($$select detail, col from caught$$, $$values ('BANNER_ID_INVALID'::text, 'banner_id'::text)$$,
    'reason <FIELD>_INVALID in DETAIL, the field in COLUMN');
select throws_ok($$set local role tally_app; select tally.check_id(0, 'user_id')$$,
    '42501', null, 'not executable by the application role');

select * from finish();
rollback;
