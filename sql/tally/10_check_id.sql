-- check_id(id, field): TLIA1 <FIELD>_INVALID ("user_id must be a positive id", the field
-- in COLUMN) unless the id is a positive integer. Every API function that takes an id
-- checks it with this, so the rule and its error read the same in every domain:
--   perform tally.check_id(p_user_id, 'user_id');   -- USER_ID_INVALID
create function tally.check_id(p_id bigint, p_field text)
returns void
language plpgsql
immutable
as $fn$
begin
    if p_id is null or p_id < 1 then
        perform tally.raise_error('TLIA1', upper(p_field) || '_INVALID',
                                  p_field || ' must be a positive id', p_field);
    end if;
end
$fn$;
