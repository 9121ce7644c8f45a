-- _raise_remote(sqlstate, message, detail, hint, column, ords): re-raise an error caught
-- around a PL/Proxy call as the partition raised it, so that callers of the proxy get what
-- a single database answers:
--   * a partition's own error arrives as "<function>(<n>): [<db>] REMOTE ERROR: <message>"
--     (REMOTE FATAL: the partition ended the connection, e.g. it was shut down),
--     with "Remote detail: <reason>"; its SQLSTATE, message and reason are restored, and
--     its COLUMN (which PL/Proxy does not carry) is derived from the reason, as every
--     tally function names it (BANNER_NOT_FOUND -> banner_id, RANGE_REVERSED -> ts_from);
--   * PL/Proxy's own failure to reach a partition (connect, connection lost, timeout) is
--     XX000 "PL/Proxy function ..."; it becomes 08006 DATABASE_UNAVAILABLE, which the
--     server answers UNAVAILABLE;
--   * an error of the proxy itself is raised again unchanged.
-- ords: for an error that names an entry of a batch sent in part to one partition
-- ("clicks[3]: ..."), the entries' numbers (1-based) in the whole batch, so the error
-- names the entry as the caller numbered it.
create or replace function tally._raise_remote(p_sqlstate text, p_message text, p_detail text,
                                               p_hint text, p_column text,
                                               p_ords integer[] default null)
returns void
language plpgsql
as $fn$
declare
    v_message text := p_message;
    v_reason text := nullif(p_detail, '');
    v_hint text := nullif(p_hint, '');
    v_field text := nullif(p_column, '');
    v_entry text[];
begin
    if p_message ~ '^\S+\(\d+\): \[[^]]*\] REMOTE [A-Z]+: ' then
        v_message := regexp_replace(p_message, '^\S+\(\d+\): \[[^]]*\] REMOTE [A-Z]+: ', '');
        v_reason := nullif(regexp_replace(p_detail, '^Remote detail: ', ''), '');
        v_hint := nullif(regexp_replace(p_hint, '^Remote hint: ', ''), '');
        v_field := case
            when v_reason is null or p_sqlstate not like 'TL%' then null
            when v_reason = 'RANGE_INVALID' then split_part(v_message, ' ', 1)
            when v_reason = 'RANGE_REVERSED' then 'ts_from'
            when v_reason like 'RANGE\_%' then 'ts_to'
            when v_reason like '%\_ID\_INVALID' then lower(left(v_reason, -8))
            when v_reason like '%\_NOT\_FOUND' then lower(left(v_reason, -10)) || '_id'
            when v_reason like 'IDEMPOTENCY\_KEY\_%' then 'idempotency_key'
            when v_reason like 'OCCURRED\_AT\_%' then 'occurred_at'
            when v_reason = 'ALREADY_BOOKED' then 'user_id'
            when v_reason = 'SOLD_OUT' then 'event_id'
            when v_reason = 'TOO_MANY_CLICKS' then 'clicks'
            when v_reason like '%\_INVALID' and v_reason <> 'BATCH_SHAPE_INVALID'
                then lower(left(v_reason, -8))
        end;
        v_entry := regexp_match(v_message, '^clicks\[(\d+)\]: (.*)$');
        if v_entry is not null and p_ords is not null then
            v_message := format('clicks[%s]: %s', p_ords[v_entry[1]::integer + 1] - 1, v_entry[2]);
            v_field := format('clicks[%s].%s', p_ords[v_entry[1]::integer + 1] - 1, v_field);
        end if;
    elsif tally._unreachable(p_sqlstate, p_message) then
        raise exception using errcode = '08006', message = 'partition unavailable: ' || p_message,
                              detail = 'DATABASE_UNAVAILABLE';
    end if;
    -- (RAISE takes no null option: one statement per combination of the optional ones)
    if v_field is null and v_hint is null then
        raise exception using errcode = p_sqlstate, message = v_message,
                              detail = coalesce(v_reason, '');
    elsif v_field is null then
        raise exception using errcode = p_sqlstate, message = v_message,
                              detail = coalesce(v_reason, ''), hint = v_hint;
    elsif v_hint is null then
        raise exception using errcode = p_sqlstate, message = v_message,
                              detail = coalesce(v_reason, ''), column = v_field;
    end if;
    raise exception using errcode = p_sqlstate, message = v_message,
                          detail = coalesce(v_reason, ''), hint = v_hint, column = v_field;
end
$fn$;
