-- Not a function: every migrate runs the partition maintenance once, so the partitions
-- for the retention window and the coming days exist from the first migrate on, before
-- the job runner's first run (the job, clicks.maintain_partitions, is idempotent).
select count(*) from clicks.maintain_partitions(now());
