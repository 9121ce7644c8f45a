-- tally._pick: the elements at the given positions, in the positions' order, of any type.
begin;
select plan(5);

select is(tally._pick(array[10, 20, 30, 40], array[4, 1, 3]), array[40, 10, 30],
    'the elements at the positions, in the positions'' order');
select is(tally._pick(array['a', 'b'], array[2, 2]), array['b', 'b'],
    'a position given twice gives its element twice');
select is(tally._pick(array[now()], '{}'), '{}'::timestamptz[],
    'no positions: an empty array of the same type');
select is(tally._pick(array[1, 2], array[3]), array[null]::integer[],
    'a position past the end gives null');
select throws_ok($$set local role tally_app; select tally._pick(array[1], array[1])$$,
    '42501', null, 'not executable by the application role');

select * from finish();
rollback;
