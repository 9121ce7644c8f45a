-- _check_slug(slug, field): TLIA1 SLUG_INVALID unless 1-128 characters of
-- [A-Za-z0-9_.-] (the rule of the constraint segments_slug_format).
create function segments._check_slug(p_slug text, p_field text default 'slug')
returns void
language plpgsql
immutable
as $fn$
begin
    if p_slug is null or p_slug !~ '^[A-Za-z0-9_.-]{1,128}$' then
        perform tally.raise_error('TLIA1', 'SLUG_INVALID',
            format('slug %s must be 1 to 128 characters of A-Z a-z 0-9 _ . -',
                   coalesce(quote_literal(left(p_slug, 140)), 'null')),
            p_field);
    end if;
end
$fn$;
