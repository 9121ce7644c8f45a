-- _check_page_size(page_size): the page size of every keyset-paged list (list_events,
-- list_banners): 1 to 100, else TLIA1 PAGE_SIZE_INVALID.
create function tally._check_page_size(p_page_size integer)
returns void
language plpgsql
immutable
as $fn$
begin
    if p_page_size is null or p_page_size not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'PAGE_SIZE_INVALID', 'page_size must be 1 to 100',
                                  'page_size');
    end if;
end
$fn$;
