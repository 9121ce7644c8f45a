-- create_api_key(name, scopes): a new API key for the gRPC API; returns the key, which is
-- not stored and cannot be shown again (only its SHA-256 is kept). Scopes: '*', or
-- '<domain>:read' / '<domain>:write' for booking, clicks, segments, shop. Operators only:
--   set role tally_operator;
--   select tally.create_api_key('shop-frontend', array['booking:read', 'booking:write']);
-- The key is 48 random bits of id and 244 of secret (from gen_random_uuid, which reads
-- the operating system's strong random source). A secret that cannot be guessed needs no
-- slow, salted hash: bcrypt and its kind protect low-entropy passwords from a dictionary,
-- and no dictionary reaches 2^244; one SHA-256 keeps the check cheap.
create function tally.create_api_key(p_name text, p_scopes text[])
returns text
language plpgsql
security definer
set search_path = tally, pg_temp
as $fn$
declare
    v_bad_scope text;
    v_scopes text[];
    v_id text;
    v_key text;
    v_inserted text;
begin
    if p_name is null or p_name !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$' then
        perform tally.raise_error('TLIA1', 'NAME_INVALID',
            'an API key name is 1 to 100 letters, digits, ".", "_", "-" or "@",'
            ' starting with a letter or digit', 'name');
    end if;
    if p_scopes is null or cardinality(p_scopes) = 0 then
        perform tally.raise_error('TLIA1', 'SCOPES_REQUIRED',
                                  'an API key needs at least one scope', 'scopes');
    end if;
    select s into v_bad_scope
      from unnest(p_scopes) s
     where s is null or not (s = '*' or s ~ '^(booking|clicks|segments|shop):(read|write)$')
     limit 1;
    if found then
        perform tally.raise_error('TLIA1', 'SCOPE_INVALID',
            format('unknown scope %s: use *, or <domain>:read or <domain>:write for'
                   ' booking, clicks, segments or shop', coalesce(v_bad_scope, 'null')),
            'scopes');
    end if;
    select array_agg(distinct s order by s) into v_scopes from unnest(p_scopes) s;

    v_id := left(replace(gen_random_uuid()::text, '-', ''), 12);
    v_key := format('tally_%s_%s%s', v_id, replace(gen_random_uuid()::text, '-', ''),
                    replace(gen_random_uuid()::text, '-', ''));
    insert into tally.api_keys (id, name, secret_hash, scopes)
    values (v_id, p_name, sha256(convert_to(v_key, 'UTF8')), v_scopes)
    on conflict (name) where revoked_at is null do nothing
    returning id into v_inserted;
    if v_inserted is null then
        perform tally.raise_error('TLAE1', 'NAME_TAKEN',
            format('a live API key is already named %s (revoke it first)', p_name), 'name');
    end if;
    return v_key;
end
$fn$;

grant execute on function tally.create_api_key(text, text[]) to tally_operator;
