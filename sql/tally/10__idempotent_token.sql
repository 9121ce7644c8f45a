-- _idempotent_token(scope, key, request_hash, sqlstate, reason, message, field, hint): the
-- token that lets a keyed call's failure be recorded after its transaction rolled back
-- (tally.remember_failure): SHA-256 over this database's secret and a digest of the key
-- and of everything the failure records, in hex. `hint` is the error's own HINT, without
-- the token's part. Only the owner's functions can compute it (the secret is theirs).
create function tally._idempotent_token(p_scope text, p_key text, p_request_hash bytea,
                                        p_sqlstate text, p_reason text, p_message text,
                                        p_field text, p_hint text)
returns text
language sql
stable
set search_path = tally, pg_temp
return encode(sha256((select s.secret from tally.idempotency_secret s)
                     || sha256(convert_to(jsonb_build_array(
                            coalesce(p_scope, ''), p_key, encode(p_request_hash, 'hex'),
                            p_sqlstate, p_reason, p_message, p_field, p_hint)::text, 'UTF8'))),
              'hex');
