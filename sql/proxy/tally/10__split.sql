-- _split(ids[], lengths[], names, keys[], scopes[]): a split write's parts (tally._parts:
-- each partition that owns some of the ids, with the positions of its items), once the
-- batch's arrays are found to hold one entry per item; else TLIA1 BATCH_SHAPE_INVALID,
-- checked in this order: keys, when given, and scopes, when given with them ("...must
-- have one entry per item"); then lengths, the cardinalities of the write's other
-- argument arrays, each against that of ids ("<names> must have the same length").
create or replace function tally._split(p_ids bigint[], p_lengths integer[], p_names text,
                                        p_keys text[] default null,
                                        p_scopes text[] default null)
returns table (part integer, ords integer[])
language plpgsql
as $fn$
declare
    v_length integer;
begin
    if p_keys is not null
       and (cardinality(p_keys) is distinct from cardinality(p_ids)
            or (p_scopes is not null
                and cardinality(p_scopes) is distinct from cardinality(p_ids))) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'idempotency_keys and idempotency_scopes must have one entry per item');
    end if;
    foreach v_length in array p_lengths loop
        if v_length is distinct from cardinality(p_ids) then
            perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
                                      p_names || ' must have the same length');
        end if;
    end loop;
    return query select * from tally._parts(p_ids);
end
$fn$;
