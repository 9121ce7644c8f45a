-- authenticate_api_key(key): the id and scopes of a live API key, or no row (unknown,
-- revoked, malformed). The server's one question about keys: it never sees a hash.
-- Found by the id in the key, then the SHA-256 of the whole key must match.
create function tally.authenticate_api_key(p_key text)
returns table (key_id text, scopes text[])
language sql
stable
security definer
set search_path = tally, pg_temp
as $fn$
    select k.id, k.scopes
      from tally.api_keys k
     where k.id = substring(p_key from '^tally_([0-9a-f]{12})_[0-9a-f]{64}$')
       and k.revoked_at is null
       and k.secret_hash = sha256(convert_to(p_key, 'UTF8'));
$fn$;

grant execute on function tally.authenticate_api_key(text) to tally_app;
