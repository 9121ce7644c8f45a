-- _remember_failure(sqlstate, reason, message, field, hint): what tally.remember_failure
-- does in this database (see there): checks the error's token against this database's
-- secret and records the failure against its key. True when recorded; false when the
-- key has an outcome already, or the hint holds no token of this database's. Sharded, the
-- proxy tries its own first, then each partition's (sql/proxy/tally).
create function tally._remember_failure(p_sqlstate text, p_reason text, p_message text,
                                        p_field text, p_hint text)
returns boolean
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_hint jsonb;
    v_claim jsonb;
    v_own text;
    v_count bigint;
begin
    if p_sqlstate is null or p_sqlstate not like 'TL%' or left(p_hint, 1) is distinct from '{' then
        return false;
    end if;
    v_hint := p_hint::jsonb;
    v_claim := v_hint->'idempotency';
    if jsonb_typeof(v_claim) is distinct from 'object' or v_claim->>'request' !~ '^[0-9a-f]{64}$'
       or not tally._idempotent_key_valid(v_claim->>'scope', v_claim->>'key') then
        return false;
    end if;
    -- The error's own HINT, as raise_error was given it.
    v_own := nullif(v_hint - 'idempotency', '{}'::jsonb)::text;
    if v_claim->>'token' is distinct from tally._idempotent_token(
            v_claim->>'scope', v_claim->>'key', decode(v_claim->>'request', 'hex'),
            p_sqlstate, p_reason, p_message, p_field, v_own) then
        return false;
    end if;
    -- Under the key's lock: a retry in flight commits (or rolls back) first.
    perform pg_advisory_xact_lock(tally._idempotent_lock(v_claim->>'scope', v_claim->>'key'));
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    values (v_claim->>'scope', v_claim->>'key', decode(v_claim->>'request', 'hex'),
            jsonb_build_object('error_sqlstate', p_sqlstate, 'error_reason', p_reason,
                               'error_message', p_message, 'error_field', p_field,
                               'error_hint', v_own))
    on conflict on constraint idempotency_keys_pkey do nothing;
    get diagnostics v_count = row_count;
    return v_count = 1;
end
$fn$;
