-- _check_page(count, page): TLIA1 COUNT_INVALID (1-100), PAGE_INVALID (1-1000000).
create function shop._check_page(p_count integer, p_page integer)
returns void
language plpgsql
immutable
as $fn$
begin
    if p_count is null or p_count not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'COUNT_INVALID', 'count must be 1 to 100', 'count');
    end if;
    if p_page is null or p_page < 1 or p_page > 1000000 then
        perform tally.raise_error('TLIA1', 'PAGE_INVALID', 'page must be 1 to 1000000', 'page');
    end if;
end
$fn$;
