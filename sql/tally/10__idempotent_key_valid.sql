-- _idempotent_key_valid(scope, key): a key is 1 to 128 printable ASCII characters, a scope
-- at most 128 characters (the table's constraints, checked before the claim).
create function tally._idempotent_key_valid(p_scope text, p_key text)
returns boolean
language sql
immutable
parallel safe
-- (a bounded repetition, {1,128}, makes PostgreSQL's regex 15x slower than this)
return p_key ~ '^[ -~]+$' and octet_length(p_key) <= 128
       and char_length(coalesce(p_scope, '')) <= 128;
