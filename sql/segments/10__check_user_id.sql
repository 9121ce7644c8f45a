-- _check_user_id(user_id): TLIA1 USER_ID_INVALID unless a positive id.
create function segments._check_user_id(p_user_id bigint)
returns void
language plpgsql
immutable
as $fn$
begin
    if p_user_id is null or p_user_id < 1 then
        perform tally.raise_error('TLIA1', 'USER_ID_INVALID', 'user_id must be a positive id',
                                  'user_id');
    end if;
end
$fn$;
