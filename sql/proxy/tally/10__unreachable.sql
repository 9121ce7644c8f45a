-- _unreachable(sqlstate, message): whether an error caught around a PL/Proxy call says the
-- partition could not be reached or went away mid-call (rather than that it answered with
-- an error): PL/Proxy's own connection failures (XX000 "PL/Proxy function ..."), and a
-- partition's connection, shutdown or resource errors (08xxx, 57P0x, 53xxx). A batch's
-- part that failed so is answered UNAVAILABLE; it may have been done there all the same.
create or replace function tally._unreachable(p_sqlstate text, p_message text)
returns boolean
language sql
immutable
as $fn$
    select (p_sqlstate = 'XX000' and p_message like 'PL/Proxy function %'
            and p_message not like '%] REMOTE %: %')
        or p_sqlstate like '08%' or p_sqlstate like '57P0_' or p_sqlstate like '53%'
$fn$;
