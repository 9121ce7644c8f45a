-- What the application role may do, in every schema tally_owner owns (each domain's
-- own test_surface.sql lists its functions).
begin;
create temp table domain_schemas on commit drop as
    select nspname from pg_namespace where pg_get_userbyid(nspowner) = 'tally_owner';
select plan(6);

select ok((select count(*) from domain_schemas) >= 2, 'the domain schemas are owned by tally_owner');

-- Not one table in the domain schemas may be written by the application role.
select is(
    (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in (select nspname from domain_schemas) and c.relkind in ('r', 'p')
        and (has_table_privilege('tally_app', c.oid, 'INSERT')
             or has_table_privilege('tally_app', c.oid, 'UPDATE')
             or has_table_privilege('tally_app', c.oid, 'DELETE')
             or has_table_privilege('tally_app', c.oid, 'TRUNCATE'))),
    0::bigint, 'tally_app cannot INSERT, UPDATE, DELETE or TRUNCATE any table');

-- ... nor read them directly: it reads through functions and published views.
select is(
    (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in (select nspname from domain_schemas) and c.relkind in ('r', 'p')
        and has_table_privilege('tally_app', c.oid, 'SELECT')),
    0::bigint, 'tally_app cannot SELECT any table');

-- Every function the application role may execute is SECURITY DEFINER with a pinned
-- search_path; PUBLIC may execute none of them.
select is(
    (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in (select nspname from domain_schemas)
        and has_function_privilege('tally_app', p.oid, 'EXECUTE')
        and not (p.prosecdef and exists (select 1 from unnest(p.proconfig) c
                                          where c like 'search_path=%'))),
    0::bigint, 'executable functions are SECURITY DEFINER with search_path set');
select is(
    (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in (select nspname from domain_schemas)
        and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                     where a.grantee = 0 and a.privilege_type = 'EXECUTE')),
    0::bigint, 'PUBLIC may execute no function');
select is(
    (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in (select nspname from domain_schemas)
        and pg_get_userbyid(c.relowner) <> 'tally_owner'),
    0::bigint, 'tally_owner owns every table, view and sequence');

select * from finish();
rollback;
