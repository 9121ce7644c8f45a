-- A keyed single call that fails with a domain error aborts its transaction, and the key
-- it claimed goes with it. So that its retry is answered with the same error rather than
-- run again, the error leaves the database with a token in its HINT, and whoever received
-- it records the failure against the key afterwards (tally.remember_failure; the gRPC
-- server does so at once). The token is a MAC over the key and the error under this
-- secret, which only the owner's functions read: no caller can record a failure the
-- database did not raise. Every database (each partition in sharded mode) has its own.
-- depends: 0012.idempotency_keys_insert_once

create table tally.idempotency_secret (
    singleton boolean not null default true
        constraint idempotency_secret_one_row check (singleton),
    secret    bytea   not null
        constraint idempotency_secret_length check (octet_length(secret) = 32),
    constraint idempotency_secret_pkey primary key (singleton)
);
comment on table tally.idempotency_secret is
    'The key of the tokens that let a keyed call''s failure be recorded (tally.remember_failure). Owner only.';

-- 32 bytes from the strong random source behind gen_random_uuid (version 4: 244 random bits).
insert into tally.idempotency_secret (secret)
values (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
