-- API keys for the gRPC API (issue 14). The secret is shown once, by tally.create_api_key;
-- only its SHA-256 is kept. A key reads `tally_<id>_<secret>`: the id finds the row, the
-- hash of the whole key must match. Keys are created and revoked by tally_operator only;
-- tally_app may only ask tally.authenticate_api_key for a key's scopes, never read this.
-- depends: 0009.roles_by_duty

create table tally.api_keys (
    id          text        primary key,
    name        text        not null,
    secret_hash bytea       not null,
    scopes      text[]      not null,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz,
    constraint api_keys_id_format check (id ~ '^[0-9a-f]{12}$'),
    constraint api_keys_name_valid check (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$'),
    constraint api_keys_secret_hash_sha256 check (octet_length(secret_hash) = 32),
    -- '*' is every scope; otherwise <domain>:read or <domain>:write.
    constraint api_keys_scopes_known check (
        cardinality(scopes) > 0
        and scopes <@ array['*', 'booking:read', 'booking:write', 'clicks:read',
                            'clicks:write', 'segments:read', 'segments:write', 'shop:read',
                            'shop:write']::text[])
);
comment on table tally.api_keys is
    'gRPC API keys: SHA-256 of the secret, scopes, revocation. Operators only.';

-- A name names one live key; a revoked key's name may be given to a new one.
create unique index api_keys_live_name on tally.api_keys (name) where revoked_at is null;
