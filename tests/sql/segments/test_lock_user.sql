-- segments._lock_user: the live user's row locked by this transaction, else NOT_FOUND.
begin;
select plan(3);

insert into segments.users (id, created_at, deleted_at) values
    (9100001301, now(), null), (9100001302, now(), now());
select segments._lock_user(9100001301);
select is((select xmax from segments.users where id = 9100001301), pg_current_xact_id()::xid,
    'a live user: its row is locked by this transaction');
select throws_ok($$select segments._lock_user(9100001302)$$, 'TLNF1',
    'user 9100001302 not found', 'a deleted user');
select throws_ok($$select segments._lock_user(9100001399)$$, 'TLNF1',
    'user 9100001399 not found', 'an unknown user');

select * from finish();
rollback;
