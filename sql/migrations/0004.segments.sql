-- User segments: users, segments (optionally automatic for a percentage of users),
-- memberships with an optional expiry, and the history of every add and remove.
-- depends: 0001.foundation

create schema segments;
comment on schema segments is
    'Dynamic user segments: memberships with expiry, automatic percentages, full history.';
grant usage on schema segments to tally_app;

create type segments.operation as enum ('add', 'remove');

-- Users are soft-deleted: their id stays known, so ExportHistory can still filter by a
-- deleted user, and CreateUser on a deleted id starts it afresh.
create table segments.users (
    id         bigint      not null,
    created_at timestamptz not null default clock_timestamp(),
    deleted_at timestamptz,
    constraint users_pkey primary key (id),
    constraint users_id_positive check (id > 0)
);

create table segments.segments (
    id           bigint       generated always as identity,
    slug         text         not null,
    -- Percentage of users who get the segment automatically (null: none).
    auto_percent numeric(5,2),
    created_at   timestamptz  not null default clock_timestamp(),
    deleted_at   timestamptz,
    constraint segments_pkey primary key (id),
    constraint segments_slug_format check (slug ~ '^[A-Za-z0-9_.-]{1,128}$'),
    constraint segments_auto_percent_range check (auto_percent between 0 and 100)
);
-- A slug names one live segment; a deleted segment's slug may be taken again.
create unique index segments_live_slug_key on segments.segments (slug) where deleted_at is null;
create index segments_auto_idx on segments.segments (id)
    where deleted_at is null and auto_percent > 0;

-- Lean on purpose, because create_segment may insert a million rows here at once
-- (issue target < 3 s) and every index and per-row check multiplies that:
--   * no foreign keys: only the functions in sql/segments/ write these tables, and users
--     and segments are never hard-deleted;
--   * no index on segment_id: only delete_segment needs it, and a sequential scan of the
--     memberships is fine for that rare call, while the index would be written on every
--     bulk insert. The primary key serves every per-user read and write.
create table segments.memberships (
    user_id    bigint      not null,
    segment_id bigint      not null,
    expires_at timestamptz,
    added_at   timestamptz not null,
    constraint memberships_pkey primary key (user_id, segment_id),
    constraint memberships_expiry_after_add check (expires_at > added_at)
);
create index memberships_expires_idx on segments.memberships (expires_at)
    where expires_at is not null;

-- Append-only. `at` is when the change took effect: a removal by expiry is dated at
-- the expiry, whenever the bookkeeping wrote it. slug is kept because a slug can be
-- reused by a later segment.
create table segments.history (
    id         bigint             generated always as identity,
    user_id    bigint             not null,
    segment_id bigint             not null,
    slug       text               not null,
    operation  segments.operation not null,
    at         timestamptz        not null,
    -- (at, id), not (id): the one index serves both identity and the export's order
    -- (a month read in time order, ties in the order written), and it grows at its
    -- right edge, so a million-row insert pays for one cheap index, not two. There is
    -- no (user_id, ...) index on purpose: it would be written in random places on every
    -- bulk insert; a one-user export filters the month's range instead.
    constraint history_pkey primary key (at, id)
);
