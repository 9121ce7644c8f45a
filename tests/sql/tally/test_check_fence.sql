-- tally.check_fence: accepts the newest fencing token per lock name, refuses a stale one.
begin;
select plan(9);

set local role tally_jobs;
select is(tally.check_fence('t:fence', 10), 10::bigint, 'the first token of a name is accepted');
select is(tally.check_fence('t:fence', 10), 10::bigint, 'the same holder may present it again');
select is(tally.check_fence('t:fence', 12), 12::bigint, 'a newer token is accepted');
select throws_ok($$select tally.check_fence('t:fence', 11)$$, 'TLFP1',
    'fencing token 11 for t:fence is stale: a newer holder presented 12',
    'a stale token is refused with TLFP1');
select is(tally.check_fence('t:other', 1), 1::bigint, 'names are independent');
select throws_ok($$select tally.check_fence('t:fence', 0)$$, 'TLIA1', null,
    'a token must be positive');
select throws_ok($$select tally.check_fence('t:fence', null)$$, 'TLIA1', null,
    'a token is required');
select throws_ok($$select tally.check_fence('', 5)$$, 'TLIA1', null, 'a name is required');
reset role;

-- The reason is in DETAIL.
create temp table caught (detail text) on commit drop;
do $$
declare d text;
begin
    perform tally.check_fence('t:fence', 3);
exception when sqlstate 'TLFP1' then
    get stacked diagnostics d = pg_exception_detail;
    insert into caught values (d);
end $$;
select is((select detail from caught), 'STALE_FENCING_TOKEN', 'reason STALE_FENCING_TOKEN');

select * from finish();
rollback;
