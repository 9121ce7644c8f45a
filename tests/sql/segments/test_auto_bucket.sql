-- segments._auto_bucket: the hash that decides automatic membership. Pinned values: if
-- this ever changes, every automatic segment would silently pick other users.
begin;
select plan(6);

select results_eq(
    $$select segments._auto_bucket(42, 'AVITO_DISCOUNT_30'), segments._auto_bucket(1, 'a'),
             segments._auto_bucket(9223372036854775807, 'x'),
             segments._auto_bucket(42, 'AVITO_DISCOUNT_50')$$,
    $$values (9622, 2119, 4256, 7958)$$, 'the same buckets as ever');
select is((select count(*) from generate_series(1, 100000) g
            where segments._auto_bucket(g, 'pin') not between 0 and 9999), 0::bigint,
    'always 0..9999');
select ok((select avg((segments._auto_bucket(g, 'pin') < 2500)::int)
             from generate_series(1, 100000) g) between 0.24 and 0.26,
    '25 % of ids fall below 2500');
select ok((select avg((segments._auto_bucket(g, 'one') < 5000
                       and segments._auto_bucket(g, 'two') < 5000)::int)
             from generate_series(1, 100000) g) between 0.24 and 0.26,
    'two 50 % segments share about a quarter of users: independent choices');
select is(segments._auto_bucket(42, 'AVITO_DISCOUNT_30'),
          segments._auto_bucket(42, 'AVITO_DISCOUNT_30'), 'deterministic');
select is((select provolatile from pg_proc where oid = 'segments._auto_bucket'::regproc), 'i',
    'declared immutable');

select * from finish();
rollback;
