-- _idempotent_lock(scope, key): the transaction-scoped advisory lock a keyed write holds on
-- its key from the claim to its commit, so concurrent calls with the same key run one at a
-- time: the second waits, then finds the first's recorded outcome (or, if the first rolled
-- back, claims the key itself). Two keys with the same 64-bit hash only wait for each other.
create function tally._idempotent_lock(p_scope text, p_key text)
returns bigint
language sql
immutable
parallel safe
return hashtextextended(p_key, hashtext(coalesce(p_scope, '')));
