-- maintain_partitions(at): the scheduled job (server/clicks.py JOBS) that keeps
-- clicks.minute_counts partitioned by UTC day. For the scheduled time `at` it
--   * makes sure a partition exists for every day from the oldest kept day
--     (at - settings.minute_retention) to settings.partitions_ahead days after at's day;
--     rows of such a day that landed in the default partition meanwhile are moved into
--     the new partition first;
--   * detaches and drops the partitions of days before the oldest kept day, and deletes
--     such rows from the default partition.
-- Idempotent: a second run for the same `at` finds nothing to do. Returns what it did,
-- one row per action ('created', 'dropped', 'moved', 'purged'). Concurrent runs queue on
-- an advisory lock; lock_timeout keeps a run from stalling the writers behind it for long
-- (the run fails and the next one catches up).
create function clicks.maintain_partitions(p_at timestamptz)
returns table (action text, partition_name text, rows_affected bigint)
language plpgsql
security definer
set search_path = clicks, pg_temp
set lock_timeout = '2s'
as $fn$
declare
    s          clicks.settings;
    v_first    date;
    v_last     date;
    v_keep_ts  timestamptz;
    d          date;
    v_name     text;
    v_lo       timestamptz;
    v_hi       timestamptz;
    v_rows     bigint;
    r          record;
begin
    if p_at is null or not isfinite(p_at) then
        perform tally.raise_error('TLIA1', 'AT_INVALID', 'at must be a finite time', 'at');
    end if;
    perform pg_advisory_xact_lock(hashtext('clicks.maintain_partitions'));
    select * into strict s from clicks.settings;
    v_first := ((p_at - s.minute_retention) at time zone 'UTC')::date;
    v_last := (p_at at time zone 'UTC')::date + s.partitions_ahead;
    v_keep_ts := v_first::timestamp at time zone 'UTC';

    -- Expired days first, so their rows are never moved around.
    for r in
        select c.relname::text as relname
          from pg_inherits i
          join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'clicks.minute_counts'::regclass
           and c.relname ~ '^minute_counts_p[0-9]{8}$'
           and to_date(substr(c.relname, 16), 'YYYYMMDD') < v_first
         order by 1
    loop
        execute format('alter table clicks.minute_counts detach partition clicks.%I', r.relname);
        execute format('drop table clicks.%I', r.relname);
        action := 'dropped'; partition_name := r.relname; rows_affected := null;
        return next;
    end loop;
    delete from clicks.minute_counts_default m where m.minute < v_keep_ts;
    get diagnostics v_rows = row_count;
    if v_rows > 0 then
        action := 'purged'; partition_name := 'minute_counts_default'; rows_affected := v_rows;
        return next;
    end if;

    d := v_first;
    while d <= v_last loop
        v_name := 'minute_counts_p' || to_char(d, 'YYYYMMDD');
        if to_regclass(format('clicks.%I', v_name)) is null then
            v_lo := d::timestamp at time zone 'UTC';
            v_hi := (d + 1)::timestamp at time zone 'UTC';
            -- Created apart and then attached: ATTACH needs a weaker lock on the parent
            -- than CREATE TABLE ... PARTITION OF, so writers keep going meanwhile.
            execute format('create table clicks.%I (like clicks.minute_counts including all)',
                           v_name);
            execute format(
                'with moved as (delete from clicks.minute_counts_default m'
                ' where m.minute >= $1 and m.minute < $2 returning m.banner_id, m.minute, m.clicks)'
                ' insert into clicks.%I (banner_id, minute, clicks) select * from moved', v_name)
                using v_lo, v_hi;
            get diagnostics v_rows = row_count;
            execute format('alter table clicks.minute_counts attach partition clicks.%I'
                           ' for values from (%L) to (%L)', v_name, v_lo, v_hi);
            action := 'created'; partition_name := v_name; rows_affected := null;
            return next;
            if v_rows > 0 then
                action := 'moved'; partition_name := v_name; rows_affected := v_rows;
                return next;
            end if;
        end if;
        d := d + 1;
    end loop;
end
$fn$;

grant execute on function clicks.maintain_partitions(timestamptz) to tally_jobs;
