-- _idempotent_record(scopes[], keys[], outcomes[]): record the outcome of each claimed
-- key, in the transaction that claimed it (so a key is never seen without its outcome).
create function tally._idempotent_record(p_scopes text[], p_keys text[], p_outcomes jsonb[])
returns void
language sql
set search_path = tally, pg_temp
begin atomic
    update tally.idempotency_keys t
       set outcome = u.outcome
      from unnest(p_scopes, p_keys, p_outcomes) u (scope, key, outcome)
     where t.scope = coalesce(u.scope, '') and t.key = u.key;
end;
