-- record_click(banner_id): one click, counted in the current minute (UTC). What psql users
-- call: `select clicks.record_click(1);`. The single-item form of record_clicks: it raises
-- that function's error instead (TLNF1 BANNER_NOT_FOUND, TLIA1 BANNER_ID_INVALID).
-- Returns the minute the click was counted in.
create function clicks.record_click(p_banner_id bigint,
                                    p_idempotency_key text default null,
                                    p_idempotency_scope text default '')
returns timestamptz
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    r record;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'clicks.record_click', jsonb_build_array(p_banner_id)),
                         tally._idempotent_record(to_jsonb(clicks.record_click(p_banner_id)))) #>> '{}')::timestamptz;
    end if;
    select * into r from clicks.record_clicks(array[p_banner_id], array[1], array[now()]);
    if r.error_sqlstate is not null then
        perform tally.raise_error(r.error_sqlstate, r.error_reason, r.error_message,
                                  r.error_field);
    end if;
    return r.minute;
end
$fn$;

grant execute on function clicks.record_click(bigint, text, text) to tally_app;
