-- remember_failure(sqlstate, reason, message, field, hint), on the proxy: a keyed call's
-- failure is recorded where its key was claimed, and the token in its hint says which
-- database that was (each has its own secret): the proxy itself (the domains that are not
-- sharded), else one of the partitions, asked one after another. A partition's record is
-- claimed on the proxy too, as tally._claim_key claims a partition's success, so that the
-- key is refused with another request whichever partition that would go to. A partition
-- that cannot be reached is passed over: the failure stays unrecorded, and a retry runs
-- again.
create or replace function tally._remember_failure_on(p_partition integer, p_sqlstate text,
                                                      p_reason text, p_message text,
                                                      p_field text, p_hint text)
returns boolean
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select tally.remember_failure(p_sqlstate, p_reason, p_message, p_field, p_hint);
$fn$;

create or replace function tally.remember_failure(p_sqlstate text, p_reason text,
                                                  p_message text, p_field text, p_hint text)
returns boolean
language plpgsql
security definer
set search_path = tally, pg_temp
as $fn$
declare
    v_partition integer;
    v_claim jsonb;
begin
    if tally._remember_failure(p_sqlstate, p_reason, p_message, p_field, p_hint) then
        return true;
    end if;
    for v_partition in select p.partition from plproxy.partitions p order by p.partition loop
        begin
            if tally._remember_failure_on(v_partition, p_sqlstate, p_reason, p_message,
                                          p_field, p_hint) then
                v_claim := p_hint::jsonb->'idempotency';
                perform pg_advisory_xact_lock(
                    tally._idempotent_lock(v_claim->>'scope', v_claim->>'key'));
                insert into tally.idempotency_keys (scope, key, request_hash, outcome)
                values (v_claim->>'scope', v_claim->>'key', decode(v_claim->>'request', 'hex'),
                        'null'::jsonb)
                on conflict on constraint idempotency_keys_pkey do nothing;
                return true;
            end if;
        exception when others then
            -- Unreachable (PL/Proxy's XX000, or the partition's connection lost): next.
            if not tally._unreachable(sqlstate, sqlerrm) then
                raise;
            end if;
        end;
    end loop;
    return false;
end
$fn$;

grant execute on function tally.remember_failure(text, text, text, text, text) to tally_app;
