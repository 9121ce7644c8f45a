-- check_fence(name, token): accept the fencing token of the current holder of lock
-- `name`, refuse a stale one. Call it first in the transaction whose writes the lock
-- protects; the fence row stays locked until that transaction ends, so a newer holder
-- waits for it and then wins. The same token may be presented again (one holder, several
-- transactions); a lower one raises TLFP1 STALE_FENCING_TOKEN. Returns the token.
--   select tally.check_fence('job:shop.daily_reports', 1732331234567890);
create function tally.check_fence(p_name text, p_token bigint)
returns bigint
language plpgsql
security definer
set search_path = tally, pg_temp
as $fn$
declare
    v_token bigint;
begin
    if p_name is null or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'FENCE_NAME_INVALID',
                                  'the lock name must be 1 to 200 characters', 'name');
    end if;
    if p_token is null or p_token <= 0 then
        perform tally.raise_error('TLIA1', 'FENCING_TOKEN_INVALID',
                                  'a fencing token is a positive integer', 'token');
    end if;
    insert into tally.fences as f (name, token) values (p_name, p_token)
    on conflict (name) do update set token = excluded.token, updated_at = now()
        where f.token <= excluded.token
    returning f.token into v_token;
    if v_token is null then
        perform tally.raise_error('TLFP1', 'STALE_FENCING_TOKEN',
            format('fencing token %s for %s is stale: a newer holder presented %s',
                   p_token, p_name, (select token from tally.fences where name = p_name)));
    end if;
    return v_token;
end
$fn$;

grant execute on function tally.check_fence(text, bigint) to tally_jobs;
