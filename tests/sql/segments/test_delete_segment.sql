-- segments.delete_segment: every member loses it, with history; the slug is free.
begin;
set local role tally_app;
select plan(7);

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

select * from finish();
rollback;
