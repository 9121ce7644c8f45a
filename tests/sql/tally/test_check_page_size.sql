-- tally._check_page_size: 1 to 100, else TLIA1 PAGE_SIZE_INVALID naming page_size.
begin;
select plan(6);

select lives_ok($$select tally._check_page_size(1)$$, 'one passes');
select lives_ok($$select tally._check_page_size(100)$$, 'a hundred passes');
select throws_ok($$select tally._check_page_size(0)$$, 'TLIA1', 'page_size must be 1 to 100',
    'zero');
select throws_ok($$select tally._check_page_size(101)$$, 'TLIA1', 'page_size must be 1 to 100',
    'over a hundred');
select throws_ok($$select tally._check_page_size(null)$$, 'TLIA1', 'page_size must be 1 to 100',
    'null');
select throws_ok($$set local role tally_app; select tally._check_page_size(1)$$,
    '42501', null, 'not executable by the application role');

select * from finish();
rollback;
