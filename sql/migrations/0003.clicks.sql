-- Banner clicks: banners, and their clicks counted per minute (UTC).
-- depends: 0001.foundation

create schema clicks;
comment on schema clicks is 'Banner clicks, counted per minute; read back as per-minute statistics.';
grant usage on schema clicks to tally_app;

create table clicks.banners (
    id         bigint generated always as identity primary key,
    name       text        not null,
    created_at timestamptz not null default now(),
    constraint banners_name_length check (char_length(name) between 1 and 200)
);

-- One row per (banner, minute) that had clicks. Range-partitioned by minute, one
-- partition per UTC day, created ahead and dropped after minute_retention by
-- clicks.maintain_partitions (a scheduled job); the default partition catches any minute
-- whose day has no partition yet, so a late maintenance run never loses a click.
create table clicks.minute_counts (
    banner_id bigint      not null constraint minute_counts_banner_fk references clicks.banners (id),
    minute    timestamptz not null,
    clicks    bigint      not null,
    constraint minute_counts_pkey primary key (banner_id, minute),
    -- date_bin on timestamptz is immutable (UTC-based), unlike date_trunc.
    constraint minute_counts_minute_whole
        check (minute = date_bin('1 minute', minute, timestamptz '2000-01-01 00:00:00+00')),
    constraint minute_counts_clicks_positive check (clicks > 0)
) partition by range (minute);

create table clicks.minute_counts_default partition of clicks.minute_counts default;

-- The rules' limits, one row, shared by every server and every psql user. Change with
-- `update clicks.settings set ...` as tally_owner.
create table clicks.settings (
    singleton        boolean  not null default true primary key,
    -- RecordClicks may report clicks at most this old ...
    ingest_window    interval not null default interval '7 days',
    -- ... and at most this far in the future (clock skew of the reporting edge).
    max_clock_skew   interval not null default interval '2 minutes',
    -- Per-minute rows are kept this long (whole UTC days), then their partition is dropped.
    minute_retention interval not null default interval '40 days',
    -- Daily partitions created ahead of the current day.
    partitions_ahead integer  not null default 7,
    -- Longest range clicks.stats answers.
    max_stats_range  interval not null default interval '31 days',
    constraint settings_singleton check (singleton),
    constraint settings_ingest_window_positive check (ingest_window > interval '0'),
    constraint settings_max_clock_skew_nonnegative check (max_clock_skew >= interval '0'),
    -- A click may not be accepted into a day that maintenance is about to drop.
    constraint settings_retention_covers_ingest
        check (minute_retention >= ingest_window + interval '1 day'),
    constraint settings_partitions_ahead_range check (partitions_ahead between 1 and 366),
    constraint settings_max_stats_range_positive check (max_stats_range > interval '0')
);
insert into clicks.settings default values;
