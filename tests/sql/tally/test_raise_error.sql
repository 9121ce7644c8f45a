-- tally.raise_error: SQLSTATE, message, reason in DETAIL, field in COLUMN.
begin;
select plan(3);

select throws_ok($$select tally.raise_error('TLNF1', 'THING_NOT_FOUND', 'thing 1 not found')$$,
    'TLNF1', 'thing 1 not found', 'raises the SQLSTATE and message');
create temp table caught (detail text, col text) on commit drop;
do $$
declare d text; c text;
begin
    perform tally.raise_error('TLIA1', 'NAME_INVALID', 'bad name', 'name');
exception when sqlstate 'TLIA1' then
    get stacked diagnostics d = pg_exception_detail, c = column_name;
    insert into caught values (d, c);
end $$;
select results_eq($$select detail, col from caught$$, $$values ('NAME_INVALID'::text, 'name'::text)$$,
    'reason in DETAIL, field in COLUMN');
select throws_ok($$set local role tally_app; select tally.raise_error('TLNF1', 'X', 'x')$$,
    '42501', null, 'not executable by the application role');

select * from finish();
rollback;
