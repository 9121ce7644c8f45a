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

-- No foreign keys on purpose: only the functions in sql/segments/ write these tables,
-- users and segments are never hard-deleted, and per-row RI checks would double the
-- cost of materialising an automatic segment for a million users (issue target < 3 s).
create table segments.memberships (
    user_id    bigint      not null,
    segment_id bigint      not null,
    expires_at timestamptz,
    added_at   timestamptz not null,
    constraint memberships_pkey primary key (user_id, segment_id),
    constraint memberships_expiry_after_add check (expires_at > added_at)
);
create index memberships_segment_idx on segments.memberships (segment_id);
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
    constraint history_pkey primary key (id)
);
-- Export reads a month in (at, id) order from this index. Both it and the primary key
-- grow at their right edge, which keeps a million-row insert cheap; there is no
-- (user_id, ...) index on purpose: it would be written in random places on every bulk
-- insert (create_segment's target), and a one-user export filters the month's range.
create index history_at_idx on segments.history (at, id);
