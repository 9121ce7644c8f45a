-- What the AMQP bridge published of the report outbox: one row per (queue, outbox id),
-- written after the broker confirmed the message. A summary goes to a queue once per
-- outbox id, across bridge restarts; a crash between the broker's confirm and this row
-- repeats one message with the same message_id (the outbox id), for consumers to dedupe.
-- Only shop.mark_reports_published (tally_jobs) touches it.
-- depends: 0011.idempotency_keys

create table shop.report_publications (
    queue        text        not null,
    outbox_id    bigint      not null
        constraint report_publications_outbox_fk references shop.report_outbox (id),
    published_at timestamptz not null default now(),
    constraint report_publications_pkey primary key (queue, outbox_id),
    -- an AMQP queue name: 1 to 255 bytes
    constraint report_publications_queue_valid check (octet_length(queue) between 1 and 255)
);
comment on table shop.report_publications is
    'Report summaries published to an AMQP queue (confirmed by the broker), by queue.';
