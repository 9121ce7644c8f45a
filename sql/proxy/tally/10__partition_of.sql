-- _partition_of(id): the partition that owns a banner, event or booking id: id % N (the
-- partitions' sequences hand out ids that way, see server/ops/shards.py). An id that names
-- no row anywhere (null, zero, negative) goes to partition 0, which answers it as a single
-- database would (BANNER_ID_INVALID, EVENT_NOT_FOUND, ...).
create or replace function tally._partition_of(p_id bigint)
returns integer
language sql
stable
as $fn$
    select case when p_id is null or p_id < 1 then 0
                else (p_id % (select count(*) from plproxy.partitions))::integer end
$fn$;
