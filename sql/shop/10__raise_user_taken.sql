-- _raise_user_taken(constraint): the TLAE1 error for a unique violation on users.
create function shop._raise_user_taken(p_constraint text)
returns void
language plpgsql
as $fn$
begin
    if p_constraint = 'users_email_key' then
        perform tally.raise_error('TLAE1', 'EMAIL_TAKEN', 'email is already registered', 'email');
    end if;
    perform tally.raise_error('TLAE1', 'USERNAME_TAKEN', 'username is already taken', 'username');
end
$fn$;
