-- The job runner's role (tally_jobs, created by migrate's bootstrap) reaches the schemas
-- whose job and maintenance functions it may execute; each function's own file grants
-- EXECUTE. tally_app keeps USAGE for the API functions.
grant usage on schema tally, clicks, segments, shop to tally_jobs;
