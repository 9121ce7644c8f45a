-- user_segments_batch(user_ids[]): segments.user_segments of many users in one statement
-- (the gRPC server groups concurrent GetUserSegments calls here, so a wave of reads costs
-- one round trip). Rows in input order: user i's memberships, each with ord = i, as
-- segments.user_segments returns them; none for a user without segments; or one row with
-- the error user_segments raised for that user (sqlstate, reason, message, field) and a
-- null slug. Each user is read by segments.user_segments itself, so the rules stay there.
-- Only domain errors (SQLSTATE class TL) become outcomes; anything else fails the
-- statement. Read-only: the subtransaction of each user's block writes nothing.
--   select * from segments.user_segments_batch(array[42, 43]);
create function segments.user_segments_batch(p_user_ids bigint[])
returns table (ord integer, slug text, expires_at timestamptz, added_at timestamptz,
               error_sqlstate text, error_reason text, error_message text, error_field text)
language plpgsql
stable
security definer
set search_path = segments, pg_temp
as $fn$
declare
    v_state text;
    v_message text;
    v_detail text;
    v_field text;
begin
    for i in 1 .. coalesce(cardinality(p_user_ids), 0) loop
        begin
            return query
                select i, s.slug, s.expires_at, s.added_at,
                       null::text, null::text, null::text, null::text
                  from segments.user_segments(p_user_ids[i]) s;
        exception when sqlstate 'TL000' then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                                    v_detail = pg_exception_detail, v_field = column_name;
            return query select i, null::text, null::timestamptz, null::timestamptz,
                                v_state, v_detail, v_message, nullif(v_field, '');
        end;
    end loop;
end
$fn$;

grant execute on function segments.user_segments_batch(bigint[]) to tally_app;
