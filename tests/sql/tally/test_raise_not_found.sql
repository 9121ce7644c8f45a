-- tally.raise_not_found: TLNF1 <THING>_NOT_FOUND, "<thing> <id> not found", field <thing>_id.
begin;
select plan(3);

select throws_ok($$select tally.raise_not_found('user', 42)$$, 'TLNF1', 'user 42 not found',
    'raises TLNF1 with the message');
create temp table caught (detail text, col text) on commit drop;
do $$
declare d text; c text;
begin
    perform tally.raise_not_found('category', 7);
exception when sqlstate 'TLNF1' then
    get stacked diagnostics d = pg_exception_detail, c = column_name;
    insert into caught values (d, c);
end $$;
select results_eq($$select detail, col from caught$$,
    $$values ('CATEGORY_NOT_FOUND'::text, 'category_id'::text)$$,
    'reason <THING>_NOT_FOUND in DETAIL, <thing>_id in COLUMN');
select throws_ok($$set local role tally_app; select tally.raise_not_found('user', 1)$$,
    '42501', null, 'not executable by the application role');

select * from finish();
rollback;
