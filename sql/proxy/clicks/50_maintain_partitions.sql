-- maintain_partitions(at), on every partition: the clicks job (server/domains/clicks.py
-- JOBS) keeps each partition's clicks.minute_counts partitioned by day. One scheduled run
-- runs it on all partitions in parallel (RUN ON ALL) and returns every partition's rows;
-- if a partition cannot be reached the run fails (the others did their part, which is
-- idempotent) and the next run catches up.
create or replace function clicks.maintain_partitions(p_at timestamptz)
returns table (action text, partition_name text, rows_affected bigint)
language plproxy
security definer
as $fn$
    cluster 'tally_jobs';
    run on all;
    select * from clicks.maintain_partitions(p_at);
$fn$;

grant execute on function clicks.maintain_partitions(timestamptz) to tally_jobs;
