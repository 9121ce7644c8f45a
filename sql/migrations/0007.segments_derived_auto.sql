-- Automatic memberships are derived, not stored: create_segment writes one row however
-- many users fall into the segment (issue 4: CreateSegment at 50 % of 1,000,000 users in
-- under 3 s; writing a membership and a history row per user took 4.5-5 s).
-- depends: 0004.segments

-- User u is in a live automatic segment s (auto_percent p) when
-- segments._auto_bucket(u, s.slug) < p * 100, unless
--   * a row of segments.memberships for (u, s) exists: then that row decides (active
--     while its expiry is null or in the future), or
--   * a row of this table exists: u ended that membership (removed it, or an expiry
--     ended it), and the removal sticks.
-- At most one of the two exists for a pair. Rows here are written only for pairs the
-- hash would otherwise put in the segment; they go with the user (delete_user) or the
-- segment (delete_segment).
create table segments.opt_outs (
    user_id    bigint not null,
    segment_id bigint not null,
    constraint opt_outs_pkey primary key (user_id, segment_id)
);

-- true: the history 'add' rows of the users present when this segment was created are not
-- stored; export_history derives them from the segment row and the users table (users
-- alive then, and still in that same life: created_at <= segments.created_at, not
-- deleted). delete_user stores a user's derived rows before it deletes the user.
-- false for the segments created before this migration, whose 'add' rows are stored.
alter table segments.segments add column adds_derived boolean not null default false;
alter table segments.segments alter column adds_derived set default true;

-- Existing automatic segments keep their membership rows as explicit rows (they decide,
-- and give the same answers as before, added_at included) and their stored history; they
-- are not converted to derived memberships, which would mean deleting a row per member
-- and its history row for no change in behaviour. Under the old rules a live user of the
-- automatic share without a row had ended the membership (removed it, or it expired and
-- was swept): that user gets an opt-out, so the derivation does not bring it back. An
-- expired row not yet swept stays; ending it leaves the opt-out then. The bucket is
-- segments._auto_bucket's expression (the function is created after the migrations).
insert into segments.opt_outs (user_id, segment_id)
select u.id, s.id
  from segments.segments s
  join segments.users u on u.deleted_at is null
 where s.deleted_at is null and s.auto_percent > 0
   and (hashint8extended(u.id, hashtext(s.slug)) % 10000 + 10000) % 10000 < s.auto_percent * 100
   and not exists (select 1 from segments.memberships m
                    where m.user_id = u.id and m.segment_id = s.id);
