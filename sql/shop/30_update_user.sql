-- update_user(user_id, username?, email?, description?): changes only the fields given
-- (null = leave alone; an empty description clears it); updated_at moves on.
-- TLNF1 USER_NOT_FOUND; TLIA1 USER_ID_INVALID and the create_user reasons; TLAE1
-- USERNAME_TAKEN, EMAIL_TAKEN (the rules it shares with create_user: shop._save_user). With
-- an idempotency key, a repeat answers the first answer.
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
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.update_user', jsonb_build_array(p_user_id, p_username, p_email, p_description)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.update_user(p_user_id, p_username, p_email, p_description) f))))
            as x (id bigint, username text, email text, description text, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    return query select * from shop._save_user(p_user_id, p_username, p_email, p_description);
end
$fn$;

grant execute on function shop.update_user(bigint, text, text, text, text, text) to tally_app;
