-- _claim_part(rows[], ords[], scopes[], keys[], requests[], items[]): the keys of one part
-- of a split keyed batch claimed on the proxy (tally._claim_keys), before the part goes
-- to its partition: a key reused with another request is refused whichever partition
-- had it. scopes (null: the shared scope) and keys are the whole batch's; ords are the
-- part's positions in it, and requests and items the part's, in the order of ords
-- (items[i]: the fields every outcome row of the part's item i carries, such as its
-- ids). An item whose key is refused gets its outcome row (ord: its position in the
-- batch) appended to rows and leaves ords. Returns rows and the ords left to send.
create or replace function tally._claim_part(inout p_rows jsonb[], inout p_ords integer[],
                                             p_scopes text[], p_keys text[],
                                             p_requests text[], p_items jsonb[])
language plpgsql
as $fn$
declare
    v_refused jsonb[];
begin
    v_refused := array(
        select to_jsonb(c) || p_items[c.ord] || jsonb_build_object('ord', p_ords[c.ord])
          from tally._claim_keys(
                   case when p_scopes is not null then tally._pick(p_scopes, p_ords) end,
                   tally._pick(p_keys, p_ords), p_requests) c);
    p_rows := p_rows || v_refused;
    p_ords := array(select o from unnest(p_ords) o
                     where o not in (select (r ->> 'ord')::integer from unnest(v_refused) r));
end
$fn$;
