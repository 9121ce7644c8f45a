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
declare
    v_outcome jsonb;
    v_request text;
begin
    if p_idempotency_key is not null then
        -- Keyed: what this key's first call answered, or do it now and record its answer.
        v_request := 'shop.create_category' || jsonb_build_array(p_name)::text;
        v_outcome := coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, v_request),
            tally._idempotent_record(p_idempotency_scope, p_idempotency_key, v_request,
                (select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_category(p_name) f)));
        return query select * from jsonb_to_recordset(v_outcome) as x (id bigint, name text);
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
