-- create_user(username, email, description?): a new user. The email is stored lower-cased;
-- usernames are unique regardless of case.
-- TLIA1 USERNAME_INVALID (3-50 of A-Z a-z 0-9 _ . -), EMAIL_INVALID, DESCRIPTION_INVALID
-- (at most 1000 characters); TLAE1 USERNAME_TAKEN, EMAIL_TAKEN. The rules it shares with
-- update_user are shop._save_user's.
create function shop.create_user(p_username text, p_email text, p_description text default null,
                                 p_idempotency_key text default null,
                                 p_idempotency_scope text default '')
returns table (id bigint, username text, email text, description text,
               created_at timestamptz, updated_at timestamptz)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_user', jsonb_build_array(p_username, p_email, p_description)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_user(p_username, p_email, p_description) f))))
            as x (id bigint, username text, email text, description text, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    return query select * from shop._save_user(null, p_username, p_email, p_description);
end
$fn$;

grant execute on function shop.create_user(text, text, text, text, text) to tally_app;
