-- segments.delete_segment: every member loses it, with history; the slug is free.
begin;
set local role tally_app;
select plan(10);

do $$ begin
    perform segments.create_user(9100000301);
    perform segments.create_user(9100000302);
    perform segments.create_segment('ds_x');
    perform segments.update_user_segments(9100000301, array['ds_x']);
    perform segments.update_user_segments(9100000302, array['ds_x'],
                                          p_add_ttls => array[interval '1 day']);
end $$;
select is(segments.delete_segment('ds_x'), 2::bigint, 'two memberships end');
select is((select count(*) from segments.user_segments(9100000301)), 0::bigint,
    'the member no longer has it');
reset role;
select is((select count(*) from segments.history h
            where h.slug = 'ds_x' and h.operation = 'remove'), 2::bigint,
    'a remove row per member');
set local role tally_app;
select throws_ok($$select segments.delete_segment('ds_x')$$, 'TLNF1',
    'segment ds_x not found', 'deleting twice');
select throws_ok($$select segments.update_user_segments(9100000301, array['ds_x'])$$, 'TLNF1',
    'segment ds_x not found', 'a deleted segment cannot be added');
select throws_ok($$select segments.delete_segment('no such!')$$, 'TLIA1', null, 'an invalid slug');
select is(segments.delete_segment((select slug from segments.create_segment('ds_x'))), 0::bigint,
    'a re-created slug is a new, empty segment');

-- An automatic segment: its derived members end too, with a remove row each; a user who
-- had removed it gets no second one. The buckets of 9100000339 and 9100000397 for
-- ds_auto are < 100.
do $$ begin
    perform segments.create_user(9100000339);
    perform segments.create_user(9100000397);
    perform segments.create_segment('ds_auto', 1);
    perform segments.update_user_segments(9100000397, '{}', array['ds_auto']);
end $$;
create temp table ds_ended on commit drop as select segments.delete_segment('ds_auto') as n;
reset role;
select results_eq(
    $$select user_id, operation::text from segments.history
       where slug = 'ds_auto' and user_id in (9100000339, 9100000397) order by id$$,
    $$values (9100000397::bigint, 'remove'::text), (9100000339, 'remove')$$,
    'a derived member gets a remove row, one who had removed it no second one');
select is((select n from ds_ended),
    (select count(*) from segments.history h join segments.segments s on s.id = h.segment_id
      where s.slug = 'ds_auto' and h.operation = 'remove' and h.at = s.deleted_at),
    'the count is the remove rows written at the deletion');
select is((select count(*) from segments.opt_outs o join segments.segments s on s.id = o.segment_id
            where s.slug = 'ds_auto'), 0::bigint, 'its opt-outs are gone');

select * from finish();
rollback;
