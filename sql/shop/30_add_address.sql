-- add_address(user_id, street, city, state, zip_code, country, is_primary): a new address
-- of the user. A new primary address demotes the user's previous one (at most one
-- primary per user: the partial unique index addresses_one_primary_per_user).
-- TLNF1 USER_NOT_FOUND; TLIA1 USER_ID_INVALID, STREET_INVALID (1-200), CITY_INVALID
-- (1-100), STATE_INVALID (0-100), ZIP_CODE_INVALID (1-20), COUNTRY_INVALID (2-100).
create function shop.add_address(p_user_id bigint, p_street text, p_city text, p_state text,
                                 p_zip_code text, p_country text, p_is_primary boolean default false,
                                 p_idempotency_key text default null,
                                 p_idempotency_scope text default '')
returns table (id bigint, user_id bigint, street text, city text, state text, zip_code text,
               country text, is_primary boolean, created_at timestamptz)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.add_address', jsonb_build_array(p_user_id, p_street, p_city, p_state, p_zip_code, p_country, p_is_primary)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.add_address(p_user_id, p_street, p_city, p_state, p_zip_code, p_country, p_is_primary) f))))
            as x (id bigint, user_id bigint, street text, city text, state text, zip_code text, country text, is_primary boolean, created_at timestamptz);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    if p_street is null or char_length(p_street) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'STREET_INVALID', 'street must be 1 to 200 characters', 'street');
    end if;
    if p_city is null or char_length(p_city) not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'CITY_INVALID', 'city must be 1 to 100 characters', 'city');
    end if;
    if char_length(coalesce(p_state, '')) > 100 then
        perform tally.raise_error('TLIA1', 'STATE_INVALID', 'state must be at most 100 characters', 'state');
    end if;
    if p_zip_code is null or char_length(p_zip_code) not between 1 and 20 then
        perform tally.raise_error('TLIA1', 'ZIP_CODE_INVALID', 'zip_code must be 1 to 20 characters', 'zip_code');
    end if;
    if p_country is null or char_length(p_country) not between 2 and 100 then
        perform tally.raise_error('TLIA1', 'COUNTRY_INVALID', 'country must be 2 to 100 characters', 'country');
    end if;
    -- Lock the user: concurrent primary changes of one user queue here.
    perform 1 from shop.users u where u.id = p_user_id for no key update;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
    if coalesce(p_is_primary, false) then
        update shop.addresses a set is_primary = false where a.user_id = p_user_id and a.is_primary;
    end if;
    return query
        insert into shop.addresses as a (user_id, street, city, state, zip_code, country, is_primary)
        values (p_user_id, p_street, p_city, coalesce(p_state, ''), p_zip_code, p_country,
                coalesce(p_is_primary, false))
        returning a.id, a.user_id, a.street, a.city, a.state, a.zip_code, a.country,
                  a.is_primary, a.created_at;
end
$fn$;

grant execute on function shop.add_address(bigint, text, text, text, text, text, boolean, text, text) to tally_app;
