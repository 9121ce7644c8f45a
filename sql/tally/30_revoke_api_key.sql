-- revoke_api_key(name): revoke the live API key of that name; returns its id. Servers
-- refuse it once their cache of verified keys (AUTH_CACHE_SECONDS) has let it go.
-- Operators only. TLNF1 API_KEY_NOT_FOUND when no live key has the name.
create function tally.revoke_api_key(p_name text)
returns text
language plpgsql
security definer
set search_path = tally, pg_temp
as $fn$
declare
    v_id text;
begin
    if p_name is null then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'the key''s name is required',
                                  'name');
    end if;
    update tally.api_keys set revoked_at = now()
     where name = p_name and revoked_at is null
    returning id into v_id;
    if v_id is null then
        perform tally.raise_error('TLNF1', 'API_KEY_NOT_FOUND',
                                  format('no live API key is named %s', p_name), 'name');
    end if;
    return v_id;
end
$fn$;

grant execute on function tally.revoke_api_key(text) to tally_operator;
