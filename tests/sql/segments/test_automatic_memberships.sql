-- Automatic memberships are derived (see segments.user_segments), not stored: visible at
-- once, removals stick through opt-outs, an expiry on a derived membership ends it for
-- good, and the history is complete through user and segment deletion.
-- 9100000816, 9100000887, 9100000935, 9100000986 and 9100001017 fall into the 1 % share
-- of dv_auto (bucket < 100); 9100000801 does not.
begin;
set local role tally_app;
select plan(46);

do $$ begin
    perform segments.create_user(u)
       from unnest(array[9100000801, 9100000816, 9100000887, 9100000935, 9100000986]::bigint[]) u;
end $$;
create temp table seg on commit drop as select * from segments.create_segment('dv_auto', 1);
-- The user's dv_auto rows of this month's export.
create function pg_temp.hist(p_user_id bigint) returns table (operation text, datetime text)
language sql as $fn$
    select e.operation, e.datetime from segments.export_history(
        extract(year from clock_timestamp() at time zone 'UTC')::int,
        extract(month from clock_timestamp() at time zone 'UTC')::int, p_user_id) e
     where e.segment = 'dv_auto'
$fn$;
create temp table created on commit drop as
    select (select created_at from seg) as seg_at,
           to_char((select created_at from seg) at time zone 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as seg_stamp;

-- Visible at once, nothing stored.
select results_eq($$select slug, expires_at, added_at from segments.user_segments(9100000816)$$,
    $$select 'dv_auto'::text, null::timestamptz, seg_at from created$$,
    'a user present at the creation is a member, added at the creation');
select is((select count(*) from segments.user_segments(9100000801)), 0::bigint,
    'a user outside the share is not');
select ok((select auto_members from seg) >= 4, 'auto_members counts the share');
reset role;
select results_eq(
    $$select (select count(*) from segments.memberships where segment_id = s.id),
             (select count(*) from segments.history where segment_id = s.id),
             (select count(*) from segments.opt_outs where segment_id = s.id)
        from seg s$$,
    $$values (0::bigint, 0::bigint, 0::bigint)$$, 'create_segment stored no rows but its own');
set local role tally_app;
select results_eq($$select * from pg_temp.hist(9100000887)$$, $$select 'add'::text, seg_stamp from created$$,
    'the export derives its add row, at the creation');

-- A user created later: a member from its own creation, with a stored add row.
create temp table later on commit drop as select * from segments.create_user(9100001017);
select results_eq($$select slug, added_at from segments.user_segments(9100001017)$$,
    $$select 'dv_auto'::text, created_at from later$$, 'a later user is a member from its creation');
reset role;
select results_eq(
    $$select operation::text, at from segments.history
       where user_id = 9100001017 and segment_id = (select id from seg)$$,
    $$select 'add'::text, created_at from later$$, 'with its add row stored at that time');
set local role tally_app;
select results_eq($$select * from pg_temp.hist(9100001017)$$,
    $$select 'add'::text, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        from later$$, 'exported once');

-- Adding a derived membership keeps it: no row, no history.
select results_eq(
    $$select operation, changed, expires_at from segments.update_user_segments(9100000887, array['dv_auto'])$$,
    $$values ('add'::text, false, null::timestamptz)$$, 'adding a derived membership is not new');
reset role;
select results_eq(
    $$select (select count(*) from segments.memberships where user_id = 9100000887),
             (select count(*) from segments.history where user_id = 9100000887)$$,
    $$values (0::bigint, 0::bigint)$$, 'and stores nothing');
set local role tally_app;

-- Removing it sticks: an opt-out; CreateUser again changes nothing.
select results_eq(
    $$select operation, changed from segments.update_user_segments(9100000816, '{}', array['dv_auto'])$$,
    $$values ('remove'::text, true)$$, 'a derived membership can be removed');
do $$ begin perform segments.create_user(9100000816); end $$;
select is((select count(*) from segments.user_segments(9100000816)), 0::bigint,
    'and stays removed');
select results_eq(
    $$select operation, changed from segments.update_user_segments(9100000816, '{}', array['dv_auto'])$$,
    $$values ('remove'::text, false)$$, 'removing it again is a no-op');
reset role;
select is((select count(*) from segments.opt_outs
            where user_id = 9100000816 and segment_id = (select id from seg)), 1::bigint,
    'kept as an opt-out');
set local role tally_app;

-- Adding it back: an explicit membership, added now.
select results_eq(
    $$select operation, changed from segments.update_user_segments(9100000816, array['dv_auto'])$$,
    $$values ('add'::text, true)$$, 'adding it after the removal is a new membership');
select ok((select added_at > (select seg_at from created)
             from segments.user_segments(9100000816) where slug = 'dv_auto'),
    'added now, not at the creation');
reset role;
select results_eq(
    $$select (select count(*) from segments.opt_outs where user_id = 9100000816),
             (select count(*) from segments.memberships where user_id = 9100000816 and expires_at is null)$$,
    $$values (0::bigint, 1::bigint)$$, 'the opt-out is replaced by a row');
set local role tally_app;
select results_eq($$select operation from pg_temp.hist(9100000816)$$,
    $$values ('add'::text), ('remove'), ('add')$$, 'add (derived), remove, add');
-- Removing the explicit membership of an automatic segment sticks too.
select results_eq(
    $$select changed from segments.update_user_segments(9100000816, '{}', array['dv_auto'])$$,
    $$values (true)$$, 'removing the explicit membership');
select is((select count(*) from segments.user_segments(9100000816)), 0::bigint,
    'leaves no derived one behind');

-- An expiry on a derived membership: carried by a row, then the membership ends for good.
select results_eq(
    $$select operation, changed, expires_at is not null from segments.update_user_segments(
          9100000935, array['dv_auto'], p_add_ttls => array[interval '50 milliseconds'])$$,
    $$values ('add'::text, false, true)$$, 'an expiry on a derived membership is not a new one');
select results_eq($$select slug, added_at, expires_at is not null from segments.user_segments(9100000935)$$,
    $$select 'dv_auto'::text, seg_at, true from created$$, 'it keeps its added_at and gets the expiry');
create temp table exp on commit drop as
    select expires_at from segments.user_segments(9100000935);
select pg_sleep(0.1);
select is((select count(*) from segments.user_segments(9100000935)), 0::bigint,
    'once expired it is not returned, not swept yet');
create temp table before_sweep on commit drop as select * from pg_temp.hist(9100000935);
select results_eq($$select * from before_sweep$$,
    $$select 'add'::text, seg_stamp from created
      union all select 'remove', to_char(expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') from exp$$,
    'the export has the derived add and the removal at the expiry');
set local role tally_jobs;  -- the sweep is the job runner's
select ok(segments.expire_memberships(now()) >= 1, 'the sweep ends it');
set local role tally_app;
select is((select count(*) from segments.user_segments(9100000935)), 0::bigint,
    'and the derived membership does not come back');
select results_eq($$select * from pg_temp.hist(9100000935)$$, $$select * from before_sweep$$,
    'the export is the same after the sweep');
reset role;
select results_eq(
    $$select (select count(*) from segments.opt_outs where user_id = 9100000935),
             (select count(*) from segments.memberships where user_id = 9100000935)$$,
    $$values (1::bigint, 0::bigint)$$, 'the sweep left an opt-out');
set local role tally_app;

-- Deleting a user stores its derived adds, ends the derived membership; created again it
-- starts afresh.
select is(segments.delete_user(9100000986), 1, 'delete_user ends the derived membership');
reset role;
select results_eq(
    $$select operation::text, at from segments.history
       where user_id = 9100000986 and segment_id = (select id from seg) order by at, id$$,
    $$select 'add'::text, seg_at from created
      union all
      select 'remove', deleted_at from segments.users where id = 9100000986$$,
    'its add is stored, dated at the creation, and its remove at the deletion');
set local role tally_app;
select results_eq($$select operation from pg_temp.hist(9100000986)$$, $$values ('add'::text), ('remove')$$,
    'exported once each');
select is((select created from segments.create_user(9100000986)), true, 'created again');
select results_eq($$select slug from segments.user_segments(9100000986)$$,
    $$values ('dv_auto'::text)$$, 'it is a member again');
select results_eq($$select operation from pg_temp.hist(9100000986)$$,
    $$values ('add'::text), ('remove'), ('add')$$, 'with one more add, nothing twice');
select is((select count(*) from segments.user_segments(9100000986)
            where added_at > (select seg_at from created)), 1::bigint,
    'added at its new creation');
-- A user deleted after removing an automatic segment, then created again, gets it back.
do $$ begin
    perform segments.delete_user(9100000816);
    perform segments.create_user(9100000816);
end $$;
select results_eq($$select slug from segments.user_segments(9100000816)$$,
    $$values ('dv_auto'::text)$$, 'a re-created user is not held by its old opt-out');

-- The month's export: each add once; at the creation instant the derived rows (by user
-- id) before the stored ones of the deleted users (in the order written).
select results_eq(
    $$select user_id from segments.export_history(
          extract(year from clock_timestamp() at time zone 'UTC')::int,
          extract(month from clock_timestamp() at time zone 'UTC')::int)
       where segment = 'dv_auto' and operation = 'add' and user_id between 9100000801 and 9100001200
         and datetime = (select seg_stamp from created)$$,
    $$values (9100000887::bigint), (9100000935), (9100000986), (9100000816)$$,
    'derived adds by user id, then stored ones in the order written');
select results_eq(
    $$select user_id, count(*) from segments.export_history(
          extract(year from clock_timestamp() at time zone 'UTC')::int,
          extract(month from clock_timestamp() at time zone 'UTC')::int)
       where segment = 'dv_auto' and operation = 'add' and user_id between 9100000801 and 9100001200
       group by user_id order by user_id$$,
    $$values (9100000816::bigint, 3::bigint), (9100000887, 1), (9100000935, 1), (9100000986, 2),
             (9100001017, 1)$$,
    'every add of every user exactly once');
select ok((select bool_and(datetime >= lag) from (
              select datetime, lag(datetime, 1, '') over () from segments.export_history(
                  extract(year from clock_timestamp() at time zone 'UTC')::int,
                  extract(month from clock_timestamp() at time zone 'UTC')::int)) e),
    'the month is in time order');

-- Deleting the segment ends the derived memberships too, each with a remove row.
create temp table gone on commit drop as select segments.delete_segment('dv_auto') as ended;
reset role;
select is((select ended from gone),
    (select count(*) from segments.history h join seg s on s.id = h.segment_id
      where h.operation = 'remove'
        and h.at = (select deleted_at from segments.segments where id = s.id)),
    'delete_segment counts a remove row per member');
select results_eq(
    $$select h.user_id from segments.history h join seg s on s.id = h.segment_id
       where h.operation = 'remove' and h.user_id between 9100000801 and 9100001200
         and h.at = (select deleted_at from segments.segments where id = s.id)
       order by h.user_id$$,
    $$values (9100000816::bigint), (9100000887), (9100000986), (9100001017)$$,
    'derived members and re-created ones; not the user whose membership expired');
select is((select count(*) from segments.opt_outs o join seg s on s.id = o.segment_id),
    0::bigint, 'its opt-outs are gone');
set local role tally_app;
select is((select count(*) from segments.user_segments(9100000887)), 0::bigint,
    'the member no longer has it');
select results_eq($$select operation from pg_temp.hist(9100000887)$$, $$values ('add'::text), ('remove')$$,
    'add (derived) and remove');
select throws_ok($$select segments.update_user_segments(9100000887, array['dv_auto'])$$, 'TLNF1',
    'segment dv_auto not found', 'a deleted automatic segment cannot be added');
do $$ begin perform segments.create_segment('dv_auto', 1); end $$;
select results_eq($$select slug from segments.user_segments(9100000935)$$, $$values ('dv_auto'::text)$$,
    'an opt-out of the old segment does not hold for a new one with its slug');

select * from finish();
rollback;
