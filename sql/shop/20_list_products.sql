-- list_products(count = 10, page = 1, name_contains?, min_price?, max_price?, category_id?):
-- a page of the matching products by id, each row with the number of matches (a page past
-- the end: one row with the total and null product columns). name_contains matches
-- case-insensitively; prices are decimal text and bound inclusively.
-- TLIA1 COUNT_INVALID, PAGE_INVALID, PRICE_INVALID (min_price/max_price), PRICE_RANGE_REVERSED.
create function shop.list_products(p_count integer default 10, p_page integer default 1,
                                   p_name_contains text default null,
                                   p_min_price text default null, p_max_price text default null,
                                   p_category_id bigint default null)
returns table (total bigint, id bigint, name text, description text, price numeric,
               stock_quantity integer, category_id bigint, created_at timestamptz,
               updated_at timestamptz)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
declare
    v_min numeric := shop._parse_price(p_min_price, 'min_price');
    v_max numeric := shop._parse_price(p_max_price, 'max_price');
    v_name text := lower(nullif(p_name_contains, ''));
begin
    perform shop._check_page(p_count, p_page);
    if v_min > v_max then
        perform tally.raise_error('TLIA1', 'PRICE_RANGE_REVERSED',
                                  'min_price must not exceed max_price', 'min_price');
    end if;
    return query
        with m as (
            select * from shop.products x
             where (v_name is null or strpos(lower(x.name), v_name) > 0)
               and (v_min is null or x.price >= v_min)
               and (v_max is null or x.price <= v_max)
               and (p_category_id is null or x.category_id = p_category_id)
        )
        select t.total, p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
               p.created_at, p.updated_at
          from (select count(*) as total from m) t
          left join lateral (select * from m order by m.id
                              limit p_count offset (p_page - 1)::bigint * p_count) p on true;
end
$fn$;

grant execute on function shop.list_products(integer, integer, text, text, text, bigint) to tally_app;
