-- create_banner(name): a new banner. TLIA1 NAME_INVALID (1-200 characters).
create function clicks.create_banner(p_name text,
                                     p_idempotency_key text default null,
                                     p_idempotency_scope text default '')
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'clicks.create_banner', jsonb_build_array(p_name)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from clicks.create_banner(p_name) f))))
            as x (id bigint, name text, created_at timestamptz);
        return;
    end if;
    if p_name is null or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    return query
        insert into clicks.banners as b (name)
        values (p_name)
        returning b.id, b.name, b.created_at;
end
$fn$;

grant execute on function clicks.create_banner(text, text, text) to tally_app;
