-- raise_error(sqlstate, reason, message, field, hint): raise a domain error the way every
-- tally function does: SQLSTATE class TL, the machine-readable reason in DETAIL, for a bad
-- argument the argument's name in COLUMN and, where the error has details, a JSON object
-- in HINT. Batch functions report outcomes as rows; their single-call forms turn an
-- outcome row into an error with this.
-- Inside a keyed single call (its key claimed by tally._idempotent_claim and not yet
-- recorded), the error's HINT also carries {"idempotency": {"scope", "key", "request",
-- "token"}}: what tally.remember_failure needs to record this failure against the key
-- once the transaction has rolled back, so that a retry is answered with it.
create function tally.raise_error(p_sqlstate text, p_reason text, p_message text,
                                  p_field text default null, p_hint text default null)
returns void
language plpgsql
as $fn$
declare
    v_pending jsonb := nullif(current_setting('tally.idempotency_pending', true), '')::jsonb;
    v_hint text := p_hint;
begin
    if v_pending is not null and (p_hint is null or left(p_hint, 1) = '{') then
        v_hint := (coalesce(p_hint::jsonb, '{}') || jsonb_build_object('idempotency',
            v_pending || jsonb_build_object('token', tally._idempotent_token(
                v_pending->>'scope', v_pending->>'key', decode(v_pending->>'request', 'hex'),
                p_sqlstate, p_reason, p_message, p_field, p_hint::jsonb::text))))::text;
    end if;
    -- (RAISE takes no null option: one statement per combination of the optional ones)
    if p_field is null and v_hint is null then
        raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason;
    elsif p_field is null then
        raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason,
                              hint = v_hint;
    elsif v_hint is null then
        raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason,
                              column = p_field;
    end if;
    raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason,
                          column = p_field, hint = v_hint;
end
$fn$;
