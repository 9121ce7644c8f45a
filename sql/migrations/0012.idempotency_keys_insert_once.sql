-- Idempotency keys are now inserted once, with their outcome, at the end of the write's
-- transaction (the claim is a transaction-scoped advisory lock, tally._idempotent_lock),
-- never updated: the room fillfactor 90 kept on each page for the outcome's update is no
-- longer used. Rows written from now on fill their pages.
-- depends: 0011.idempotency_keys

alter table tally.idempotency_keys set (fillfactor = 100);
comment on table tally.idempotency_keys is
    'Keys of keyed writes with their request hash and outcome, inserted once with the write. Write functions only.';
