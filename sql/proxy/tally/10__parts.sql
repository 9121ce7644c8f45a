-- _parts(ids[]): a batch split by partition: each partition that owns some of the ids
-- (tally._partition_of), in partition order, with the positions (1-based, ascending) of
-- its items. A split write sends each part to its partition (tally._pick of each argument
-- array).
create or replace function tally._parts(p_ids bigint[])
returns table (part integer, ords integer[])
language sql
stable
as $fn$
    select tally._partition_of(p_ids[i]), array_agg(i order by i)
      from generate_subscripts(p_ids, 1) i
     group by 1
     order by 1
$fn$;
