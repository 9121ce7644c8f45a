-- The PL/Proxy clusters: the partitions' connection strings, in partition order
-- (partition n owns the ids with id % N = n), written by migrate (server/ops/shards.py),
-- and the configuration functions PL/Proxy calls. Two clusters over the same partitions,
-- one per login role, since the routing functions run as their owner (SECURITY DEFINER, as
-- everywhere), a NOLOGIN role: `tally` connects as tally_app (the API), `tally_jobs` as
-- tally_jobs (the scheduled jobs), so each reaches on the partitions what it may do on the
-- proxy. No password is stored: give them in the proxy server's ~/.pgpass (or connect
-- through a local pooler that holds them).
-- Nothing here is granted: only the owner's routing functions use it.
create table if not exists plproxy.partitions (
    partition integer not null primary key,
    conninfo  text    not null,
    constraint partitions_numbered check (partition >= 0)
);
create table if not exists plproxy.cluster (
    singleton boolean not null default true primary key,
    -- Raised by migrate whenever the partitions change: PL/Proxy reloads them then.
    version   integer not null default 1,
    constraint cluster_singleton check (singleton)
);
insert into plproxy.cluster default values on conflict do nothing;
comment on table plproxy.partitions is 'The partitions of the PL/Proxy cluster tally. Written by migrate.';

create or replace function plproxy.get_cluster_version(p_cluster_name text)
returns integer
language plpgsql
stable
security definer
set search_path = plproxy, pg_temp
as $fn$
begin
    if p_cluster_name is distinct from 'tally' and p_cluster_name is distinct from 'tally_jobs' then
        raise exception 'unknown PL/Proxy cluster %', p_cluster_name;
    end if;
    return (select c.version from plproxy.cluster c);
end
$fn$;

create or replace function plproxy.get_cluster_partitions(p_cluster_name text)
returns setof text
language plpgsql
stable
security definer
set search_path = plproxy, pg_temp
as $fn$
begin
    if p_cluster_name is distinct from 'tally' and p_cluster_name is distinct from 'tally_jobs' then
        raise exception 'unknown PL/Proxy cluster %', p_cluster_name;
    end if;
    return query
        select p.conninfo || case p_cluster_name when 'tally' then ' user=tally_app'
                                                 else ' user=tally_jobs' end
          from plproxy.partitions p
         order by p.partition;
end
$fn$;

-- modular_mapping: partition = hash % N, so any N works (not only powers of two) and the
-- hash of an id is the id's partition itself. A connection is renewed every 30 minutes.
create or replace function plproxy.get_cluster_config(in p_cluster_name text,
                                                      out key text, out val text)
returns setof record
language sql
stable
as $fn$
    values ('modular_mapping', '1'), ('connection_lifetime', '1800')
$fn$;
