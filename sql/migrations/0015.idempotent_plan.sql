-- The plan of a keyed batch as one value (tally._idempotent_plan returns it; the batch
-- write functions hand it to tally._idempotent_keep and _idempotent_finish): per item, in
-- input order, its scope and key, the first item of the batch with its key, the outcome
-- recorded with the key, the key's error and the request's hash; and the items the call
-- must do itself.
-- depends: 0014.idempotency_failures

create type tally.idempotent_plan as (
    scopes    text[],
    keys      text[],
    first_ord integer[],
    replays   jsonb[],
    reasons   text[],
    hashes    bytea[],
    todo      integer[]
);
