-- update_user_segments_batch(user_ids[], slug_items[], slugs[], is_adds[], expires_ats[],
-- ttls[], idempotency_keys[], idempotency_scopes[]): many users' update_user_segments in one
-- statement (the gRPC server groups concurrent UpdateUserSegments calls here, so a wave of
-- them costs one round trip and one commit). Item i is user_ids[i]; its slugs are the
-- entries of slugs[] with slug_items = i, in their order: is_adds says add or remove, and
-- an add has expires_ats or ttls (or neither). Each item is segments.update_user_segments
-- itself (with its idempotency key, if any), so the rules stay there, and each is atomic
-- on its own: a failed item changes nothing and the others still apply.
-- Items run in user id order (the input order within one user), so concurrent batches
-- take the users' row locks in one order and cannot deadlock on them.
-- Rows item by item, in the order the items ran: item i's rows as update_user_segments
-- returns them, each with ord = i (none for an item without slugs); or one row with the
-- error the item raised (sqlstate, reason, message, field) and a null operation. A keyed item's error is
-- recorded against its key in this transaction (tally._remember_failure), as the server
-- records a single call's, so its retry gets it again.
-- Only domain errors (SQLSTATE class TL) become outcomes; anything else fails the batch.
--   select * from segments.update_user_segments_batch(array[42, 43], array[1, 2],
--                                                     array['TRIAL', 'TRIAL'], array[true, false]);
create function segments.update_user_segments_batch(
    p_user_ids bigint[],
    p_slug_items integer[],
    p_slugs text[],
    p_is_adds boolean[],
    p_expires_ats timestamptz[] default null,
    p_ttls interval[] default null,
    p_idempotency_keys text[] default null,
    p_idempotency_scopes text[] default null)
returns table (ord integer, operation text, slug text, expires_at timestamptz, changed boolean,
               error_sqlstate text, error_reason text, error_message text, error_field text)
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
declare
    r record;
    v_state text;
    v_message text;
    v_detail text;
    v_field text;
    v_hint text;
begin
    if cardinality(p_slug_items) is distinct from cardinality(p_slugs)
       or cardinality(p_is_adds) is distinct from cardinality(p_slugs)
       or (p_expires_ats is not null and cardinality(p_expires_ats) <> cardinality(p_slugs))
       or (p_ttls is not null and cardinality(p_ttls) <> cardinality(p_slugs))
       or (p_idempotency_keys is not null
           and cardinality(p_idempotency_keys) <> cardinality(p_user_ids))
       or (p_idempotency_scopes is not null
           and cardinality(p_idempotency_scopes) <> cardinality(p_user_ids)) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'slug_items, slugs, is_adds, expires_ats and ttls must have one entry per slug,'
            ' idempotency_keys and idempotency_scopes one per user_id');
    end if;
    for r in
        with entry as (
            select e.item, e.slug, e.is_add, e.expires_at, e.ttl, e.n
              from unnest(p_slug_items, p_slugs, p_is_adds,
                          coalesce(p_expires_ats, array_fill(null::timestamptz, array[cardinality(p_slugs)])),
                          coalesce(p_ttls, array_fill(null::interval, array[cardinality(p_slugs)])))
                   with ordinality as e (item, slug, is_add, expires_at, ttl, n)
        ),
        per_item as (
            select e.item,
                   array_agg(e.slug order by e.n) filter (where e.is_add) as adds,
                   array_agg(e.expires_at order by e.n) filter (where e.is_add) as expires_ats,
                   array_agg(e.ttl order by e.n) filter (where e.is_add) as ttls,
                   array_agg(e.slug order by e.n) filter (where not e.is_add) as removes
              from entry e
             group by e.item
        )
        select i.n::integer as n, i.user_id, i.key, i.scope,
               coalesce(p.adds, '{}') as adds, coalesce(p.removes, '{}') as removes,
               coalesce(p.expires_ats, '{}') as expires_ats, coalesce(p.ttls, '{}') as ttls
          from unnest(p_user_ids,
                      coalesce(p_idempotency_keys, array_fill(null::text, array[cardinality(p_user_ids)])),
                      coalesce(p_idempotency_scopes, array_fill(''::text, array[cardinality(p_user_ids)])))
               with ordinality as i (user_id, key, scope, n)
          left join per_item p on p.item = i.n
         order by i.user_id, i.n
    loop
        begin
            return query
                select r.n, u.operation, u.slug, u.expires_at, u.changed,
                       null::text, null::text, null::text, null::text
                  from segments.update_user_segments(r.user_id, r.adds, r.removes, r.expires_ats,
                                                     r.ttls, r.key, coalesce(r.scope, '')) u;
        exception when sqlstate 'TL000' then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                                    v_detail = pg_exception_detail, v_field = column_name,
                                    v_hint = pg_exception_hint;
            perform tally._remember_failure(v_state, v_detail, v_message, nullif(v_field, ''),
                                            nullif(v_hint, ''));
            return query select r.n, null::text, null::text, null::timestamptz, null::boolean,
                                v_state, v_detail, v_message, nullif(v_field, '');
        end;
    end loop;
end
$fn$;

grant execute on function segments.update_user_segments_batch(bigint[], integer[], text[], boolean[], timestamptz[], interval[], text[], text[]) to tally_app;
