-- _save_user(user_id, username, email, description): the write of create_user (user_id
-- null: a new user, username and email required) and of update_user (the given fields of
-- that user; null leaves a field alone, an empty description clears it), under the rules
-- both share: the fields checked by _check_user, the email stored lower-cased, and a
-- username or email another user has raised as TLAE1 USERNAME_TAKEN or EMAIL_TAKEN
-- (_raise_user_taken). Returns the user's row; TLNF1 USER_NOT_FOUND for an update of a
-- user that does not exist.
create function shop._save_user(p_user_id bigint, p_username text, p_email text,
                                p_description text)
returns table (id bigint, username text, email text, description text,
               created_at timestamptz, updated_at timestamptz)
language plpgsql
as $fn$
declare
    v_constraint text;
begin
    if p_user_id is null then
        perform shop._check_user(coalesce(p_username, ''), lower(coalesce(p_email, '')),
                                 p_description);
        return query
            insert into shop.users as u (username, email, description)
            values (p_username, lower(p_email), p_description)
            returning u.id, u.username, u.email, u.description, u.created_at, u.updated_at;
        return;
    end if;
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
