-- The common schema and the privilege defaults every domain relies on.
-- Runs as tally_owner (server.migrate sets the role), so tally_owner owns what it creates.

-- Functions are not executable by PUBLIC unless a repeatable file grants it.
alter default privileges for role tally_owner revoke execute on functions from public;

create schema tally;
comment on schema tally is 'Shared by every domain: scheduled job runs, fencing tokens.';
grant usage on schema tally to tally_app;
