-- _check_user(username, email, description): TLIA1 for a bad field (nulls are not checked:
-- update_user passes null for a field it leaves alone).
create function shop._check_user(p_username text, p_email text, p_description text)
returns void
language plpgsql
immutable
as $fn$
begin
    if p_username is not null and p_username !~ '^[A-Za-z0-9_.-]{3,50}$' then
        perform tally.raise_error('TLIA1', 'USERNAME_INVALID',
            'username must be 3 to 50 letters, digits, "_", "." or "-"', 'username');
    end if;
    if p_email is not null and (char_length(p_email) > 254
            or p_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$') then
        perform tally.raise_error('TLIA1', 'EMAIL_INVALID', 'email is not a valid address', 'email');
    end if;
    if p_description is not null and char_length(p_description) > 1000 then
        perform tally.raise_error('TLIA1', 'DESCRIPTION_INVALID',
            'description must be at most 1000 characters', 'description');
    end if;
end
$fn$;
