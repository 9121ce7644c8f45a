-- _lock_user(user_id): locks the live user's row (FOR NO KEY UPDATE), so the writes to
-- one user's memberships (update_user_segments, delete_user) run one after another, and
-- expire_memberships (which skips locked users) leaves this user to them.
-- TLNF1 USER_NOT_FOUND for an unknown or deleted user.
create function segments._lock_user(p_user_id bigint)
returns void
language plpgsql
as $fn$
begin
    perform 1 from segments.users u
     where u.id = p_user_id and u.deleted_at is null
       for no key update;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
end
$fn$;
