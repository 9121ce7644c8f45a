-- segments._derived_memberships: the rule of derived memberships, and that the planner
-- inlines it (a caller's filter reaches the primary keys).
begin;
select plan(11);

insert into segments.users (id, created_at, deleted_at) values
    (9100001101, '2024-01-01', null), (9100001102, '2024-03-01', null),
    (9100001103, '2024-01-01', '2024-02-01');
insert into segments.segments (slug, auto_percent, created_at) values
    ('dm_all', 100, '2024-02-01'), ('dm_plain', null, '2024-02-01'),
    ('dm_zero', 0, '2024-02-01'), ('dm_gone', 100, '2024-02-01');
update segments.segments set deleted_at = '2024-02-02' where slug = 'dm_gone';
create temp table seg on commit drop as
    select s.slug, s.id from segments.segments s where s.slug like 'dm\_%';
create function pg_temp.derived(p_user_id bigint) returns setof text
language sql as $fn$
    select d.slug from segments._derived_memberships() d
     where d.user_id = p_user_id order by d.slug
$fn$;

select results_eq($$select d.user_id, d.slug, d.added_at from segments._derived_memberships() d
                    where d.segment_id = (select id from seg where slug = 'dm_all')
                      and d.user_id between 9100001101 and 9100001103
                    order by d.user_id$$,
    $$values (9100001101::bigint, 'dm_all'::text, timestamptz '2024-02-01'),
             (9100001102, 'dm_all', timestamptz '2024-03-01')$$,
    'the live users of the share, added when the later of user and segment was created');
select is_empty($$select pg_temp.derived(9100001103)$$, 'not a deleted user');
select results_eq($$select pg_temp.derived(9100001101)$$, $$values ('dm_all'::text)$$,
    'not a segment without automatic share, with a share of 0, or deleted');

insert into segments.memberships (user_id, segment_id, expires_at, added_at)
select 9100001101, id, '2024-02-03', '2024-02-01' from seg where slug = 'dm_all';
select is_empty($$select pg_temp.derived(9100001101)$$,
    'a memberships row decides, expired or not');
insert into segments.opt_outs (user_id, segment_id)
select 9100001102, id from seg where slug = 'dm_all';
select is_empty($$select pg_temp.derived(9100001102)$$, 'an opt-out excludes');

insert into segments.segments (slug, auto_percent, created_at) values ('dm_half', 50, '2024-02-01');
insert into segments.users (id, created_at)
select g, '2024-01-01' from generate_series(9100001201, 9100001400) g;
select is((select count(*) from generate_series(9100001201, 9100001400) g
            where segments._auto_member(g, 'dm_half', 50)
              <> exists (select 1 from segments._derived_memberships() d
                          where d.user_id = g and d.slug = 'dm_half')), 0::bigint,
    'for live users with neither row nor opt-out: exactly the share (_auto_member)');

-- Inlined: no function scan is left, and the filters reach the indexes.
create function pg_temp.plan(p_query text) returns text
language plpgsql as $fn$
declare
    v_plan text := '';
    v_line text;
begin
    for v_line in execute 'explain (costs off) ' || p_query loop
        v_plan := v_plan || v_line || E'\n';
    end loop;
    return v_plan;
end
$fn$;
select unalike(pg_temp.plan('select * from segments._derived_memberships() d where d.user_id = 42'),
    '%Function Scan%', 'inlined');
select alike(pg_temp.plan('select * from segments._derived_memberships() d where d.user_id = 42'),
    '%users_pkey%', 'by user: the users row by primary key');
select alike(pg_temp.plan('select * from segments._derived_memberships() d where d.user_id = 42'),
    '%opt_outs_pkey%', 'by user: opt-outs by primary key');
select is((select provolatile::text from pg_proc
            where oid = 'segments._derived_memberships'::regproc), 's',
    'declared stable');
select is((select l.lanname::text from pg_proc p join pg_language l on l.oid = p.prolang
            where p.oid = 'segments._derived_memberships'::regproc), 'sql',
    'a plain SQL function');

select * from finish();
rollback;
