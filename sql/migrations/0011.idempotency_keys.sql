-- Idempotency keys (issue 15): a write made with a key records, in its own transaction,
-- the key, a hash of the request and the outcome, so a retry with the same key gets the
-- recorded outcome instead of a second write. Keys are per scope (the API key's id when
-- the server requires keys, '' otherwise and for psql callers). Only the write functions
-- (SECURITY DEFINER, through tally._idempotent_begin/_record) touch this table; the job
-- tally.purge_idempotency_keys forgets keys older than the window.
-- depends: 0010.api_keys

create table tally.idempotency_keys (
    scope        text        not null,
    key          text        not null,
    request_hash bytea       not null,
    outcome      jsonb,
    created_at   timestamptz not null default now(),
    constraint idempotency_keys_pkey primary key (scope, key),
    -- (a bounded repetition, {1,128}, makes PostgreSQL's regex 15x slower than this)
    constraint idempotency_keys_key_printable check (key ~ '^[ -~]+$' and octet_length(key) <= 128),
    constraint idempotency_keys_scope_length check (char_length(scope) <= 128),
    constraint idempotency_keys_request_hash_sha256 check (octet_length(request_hash) = 32)
)
-- Room on each page for the outcome's update right after the claim's insert, so that it
-- is a HOT update (no new index entries).
with (fillfactor = 90);
comment on table tally.idempotency_keys is
    'Keys of keyed writes with their request hash and recorded outcome. Write functions only.';

create index idempotency_keys_created_at on tally.idempotency_keys (created_at);
