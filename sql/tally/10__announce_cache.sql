-- _announce_cache(kind, ids): tell every server that the cached values of these rows
-- changed. One NOTIFY on channel tally_cache per at most 500 ids, payload
-- '<kind> <id> <id> ...' (kind e.g. 'booking.event'). PostgreSQL delivers a NOTIFY when
-- (and only if) the transaction commits, and folds identical ones within a transaction;
-- each server worker LISTENs and drops those keys from Redis. The domains' statement-
-- level triggers call this, so a change is announced whoever made it: the gRPC server,
-- a psql user or a job.
create function tally._announce_cache(p_kind text, p_ids bigint[])
returns void
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_ids bigint[];
    v_from integer := 1;
begin
    select coalesce(array_agg(distinct i order by i), '{}') into v_ids
      from unnest(p_ids) i where i is not null;
    while v_from <= cardinality(v_ids) loop
        perform pg_notify('tally_cache',
                          p_kind || ' ' || array_to_string(v_ids[v_from:v_from + 499], ' '));
        v_from := v_from + 500;
    end loop;
end
$fn$;
