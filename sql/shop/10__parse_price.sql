-- _parse_price(text, field): an exact decimal price from its text ("12.50"): > 0, at most
-- two decimals, at most 10 integer digits. Null stays null. TLIA1 PRICE_INVALID naming
-- the field.
create function shop._parse_price(p_price text, p_field text default 'price')
returns numeric
language plpgsql
immutable
as $fn$
begin
    if p_price is null then
        return null;
    end if;
    if p_price !~ '^[0-9]{1,10}(\.[0-9]{1,2})?$' or p_price::numeric <= 0 then
        perform tally.raise_error('TLIA1', 'PRICE_INVALID',
            format('%s must be a decimal greater than 0 with at most 2 decimals, like "12.50"', p_field),
            p_field);
    end if;
    return p_price::numeric(12,2);
end
$fn$;
