-- remember_failure(sqlstate, reason, message, field, hint): record the failure of a keyed
-- single call against its key, after the call's transaction rolled back, so that a retry
-- with the key is answered with the same error (raised again by tally._idempotent_claim)
-- instead of being run again. The arguments are the error's fields as received: its
-- SQLSTATE, DETAIL, message, COLUMN and HINT, whose "idempotency" part (added by
-- tally.raise_error) names the key and carries the token that proves this database raised
-- exactly this error for it. The gRPC server calls this for every such error it answers;
-- from psql (`\errverbose` shows the fields):
--   select tally.remember_failure('TLNF1', 'BOOKING_NOT_FOUND', 'booking 7 not found',
--                                 'booking_id', '{"idempotency": {...}}');
-- Returns true when recorded; false when the key has an outcome already (a retry got in
-- first) or the hint carries no token of this database's (no key, another partition's).
-- Refuses nothing else: a wrong token records nothing. Only domain errors (class TL) are
-- recorded; a transient failure leaves the key free, and a retry runs again.
create function tally.remember_failure(p_sqlstate text, p_reason text, p_message text,
                                       p_field text, p_hint text)
returns boolean
language sql
security definer
set search_path = tally, pg_temp
return tally._remember_failure(p_sqlstate, p_reason, p_message, p_field, p_hint);

grant execute on function tally.remember_failure(text, text, text, text, text) to tally_app;
