-- create_category(name): a new category; names are unique regardless of case.
-- TLIA1 NAME_INVALID (1-100 characters), TLAE1 CATEGORY_NAME_TAKEN.
create function shop.create_category(p_name text,
                                     p_idempotency_key text default null,
                                     p_idempotency_scope text default '')
returns table (id bigint, name text)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_category', jsonb_build_array(p_name)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_category(p_name) f))))
            as x (id bigint, name text);
        return;
    end if;
    if p_name is null or char_length(p_name) not between 1 and 100 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 100 characters', 'name');
    end if;
    return query insert into shop.categories as c (name) values (p_name) returning c.id, c.name;
exception when unique_violation then
    perform tally.raise_error('TLAE1', 'CATEGORY_NAME_TAKEN',
                              format('category %s already exists', p_name), 'name');
end
$fn$;

grant execute on function shop.create_category(text, text, text) to tally_app;
