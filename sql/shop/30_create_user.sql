-- create_user(username, email, description?): a new user. The email is stored lower-cased;
-- usernames are unique regardless of case.
-- TLIA1 USERNAME_INVALID (3-50 of A-Z a-z 0-9 _ . -), EMAIL_INVALID, DESCRIPTION_INVALID
-- (at most 1000 characters); TLAE1 USERNAME_TAKEN, EMAIL_TAKEN.
create function shop.create_user(p_username text, p_email text, p_description text default null,
                                 p_idempotency_key text default null,
                                 p_idempotency_scope text default '')
returns table (id bigint, username text, email text, description text,
               created_at timestamptz, updated_at timestamptz)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
declare
    v_constraint text;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_user', jsonb_build_array(p_username, p_email, p_description)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_user(p_username, p_email, p_description) f))))
            as x (id bigint, username text, email text, description text, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    perform shop._check_user(coalesce(p_username, ''), lower(coalesce(p_email, '')), p_description);
    return query
        insert into shop.users as u (username, email, description)
        values (p_username, lower(p_email), p_description)
        returning u.id, u.username, u.email, u.description, u.created_at, u.updated_at;
exception when unique_violation then
    get stacked diagnostics v_constraint = constraint_name;
    perform shop._raise_user_taken(v_constraint);
end
$fn$;

grant execute on function shop.create_user(text, text, text, text, text) to tally_app;
