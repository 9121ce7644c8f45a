-- _part_unavailable(sqlstate, message, detail, hint, column, ords, reason, text, items[]):
-- what a split batch answers for a part whose partition call failed, given the error's
-- diagnostics (caught around the call, in a subtransaction of the part's own). A
-- partition that could not be reached (tally._unreachable) fails only its own items: one
-- outcome row each, 08006 with the batch's reason and text (UNAVAILABLE to their
-- callers, as for a single database's failed statement), ord its position in the batch
-- (ords), with the fields of items[i] (as tally._claim_part takes them). Any other error
-- is raised again as the partition raised it (tally._raise_remote).
create or replace function tally._part_unavailable(p_sqlstate text, p_message text,
                                                   p_detail text, p_hint text, p_column text,
                                                   p_ords integer[], p_reason text,
                                                   p_text text, p_items jsonb[])
returns jsonb[]
language plpgsql
as $fn$
begin
    if not tally._unreachable(p_sqlstate, p_message) then
        perform tally._raise_remote(p_sqlstate, p_message, p_detail, p_hint, p_column);
    end if;
    return array(select jsonb_build_object('ord', o.ord, 'error_sqlstate', '08006',
                                           'error_reason', p_reason, 'error_message', p_text)
                        || p_items[o.i]
                   from unnest(p_ords) with ordinality o (ord, i)
                  order by o.i);
end
$fn$;
