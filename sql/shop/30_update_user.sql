-- update_user(user_id, username?, email?, description?): changes only the fields given
-- (null = leave alone; an empty description clears it); updated_at moves on.
-- TLNF1 USER_NOT_FOUND; TLIA1 USER_ID_INVALID and the create_user reasons; TLAE1
-- USERNAME_TAKEN, EMAIL_TAKEN. With an idempotency key, a repeat answers the first answer.
create function shop.update_user(p_user_id bigint, p_username text default null,
                                 p_email text default null, p_description text default null,
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
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.update_user', jsonb_build_array(p_user_id, p_username, p_email, p_description)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.update_user(p_user_id, p_username, p_email, p_description) f))))
            as x (id bigint, username text, email text, description text, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    perform shop._check_user(p_username, lower(p_email), p_description);
    return query
        update shop.users u
           set username = coalesce(p_username, u.username),
               email = coalesce(lower(p_email), u.email),
               description = case when p_description is null then u.description
                                  else nullif(p_description, '') end,
               updated_at = now()
         where u.id = p_user_id
        returning u.id, u.username, u.email, u.description, u.created_at, u.updated_at;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
exception when unique_violation then
    get stacked diagnostics v_constraint = constraint_name;
    perform shop._raise_user_taken(v_constraint);
end
$fn$;

grant execute on function shop.update_user(bigint, text, text, text, text, text) to tally_app;
