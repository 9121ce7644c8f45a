-- tg_cached_rows__announce(kind): tell every server that the cached values of the rows a
-- statement changed or deleted are out of date. A statement-level trigger of a table
-- whose rows a server caches (its transition table named changed_rows, the trigger's
-- argument the kind, e.g. 'booking.event'; see the domains' 90_announce_cached_rows.sql).
-- One NOTIFY on channel tally_cache per at most 500 ids, payload '<kind> <id> <id> ...'.
-- PostgreSQL delivers a NOTIFY when, and only if, the transaction commits, and folds
-- identical ones within a transaction; every server worker LISTENs and drops those keys
-- from Redis. So a change is announced whoever made it: the gRPC server, a psql user or a
-- job.
create function tally.tg_cached_rows__announce()
returns trigger
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_ids bigint[];
    v_from integer := 1;
begin
    select coalesce(array_agg(distinct id order by id), '{}') into v_ids from changed_rows;
    while v_from <= cardinality(v_ids) loop
        perform pg_notify('tally_cache', tg_argv[0] || ' '
                          || array_to_string(v_ids[v_from:v_from + 499], ' '));
        v_from := v_from + 500;
    end loop;
    return null;
end
$fn$;
