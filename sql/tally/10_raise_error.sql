-- raise_error(sqlstate, reason, message, field): raise a domain error the way every
-- tally function does: SQLSTATE class TL, the machine-readable reason in DETAIL and,
-- for a bad argument, the argument's name in COLUMN. Batch functions report outcomes
-- as rows; their single-call forms turn an outcome row into an error with this.
create function tally.raise_error(p_sqlstate text, p_reason text, p_message text,
                                  p_field text default null)
returns void
language plpgsql
as $fn$
begin
    if p_field is null then
        raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason;
    end if;
    raise exception using errcode = p_sqlstate, message = p_message, detail = p_reason,
                          column = p_field;
end
$fn$;
