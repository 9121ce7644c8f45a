-- raise_not_found(thing, id): TLNF1 <THING>_NOT_FOUND, "user 42 not found", naming the
-- field <thing>_id. What every API function raises when the id it was given names no row:
--   perform tally.raise_not_found('user', p_user_id);   -- USER_NOT_FOUND
create function tally.raise_not_found(p_thing text, p_id bigint)
returns void
language plpgsql
as $fn$
begin
    perform tally.raise_error('TLNF1', upper(p_thing) || '_NOT_FOUND',
                              format('%s %s not found', p_thing, p_id), p_thing || '_id');
end
$fn$;
