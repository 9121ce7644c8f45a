-- _partition_of_key(scope, key): where a keyed write that creates a row (CreateBanner,
-- CreateEvent) goes: always the same partition for the same key, so that its retry finds
-- the key and the first call's outcome there. Without a key: any partition.
create or replace function tally._partition_of_key(p_scope text, p_key text)
returns integer
language sql
volatile
as $fn$
    select case when p_key is null
                then floor(random() * (select count(*) from plproxy.partitions))::integer
                else abs(hashtext(coalesce(p_scope, '') || chr(1) || p_key)::bigint
                         % (select count(*) from plproxy.partitions))::integer end
$fn$;
