-- Seat booking: events and their bookings.
-- depends: 0001.foundation

create schema booking;
comment on schema booking is 'Seats for events: never overbooked, one seat per user.';
grant usage on schema booking to tally_app;

create table booking.events (
    id           bigint generated always as identity primary key,
    name         text        not null,
    total_seats  integer     not null,
    -- Kept by the statement-level triggers on booking.bookings; the CHECK below is the
    -- last line of defence against overbooking, whatever writes the bookings.
    booked_seats integer     not null default 0,
    created_at   timestamptz not null default now(),
    constraint events_name_length check (char_length(name) between 1 and 200),
    constraint events_total_seats_nonnegative check (total_seats >= 0),
    constraint events_booked_seats_within_total check (booked_seats between 0 and total_seats)
);

create table booking.bookings (
    id         bigint generated always as identity primary key,
    event_id   bigint      not null constraint bookings_event_fk references booking.events (id),
    user_id    text        not null,
    created_at timestamptz not null default now(),
    constraint bookings_user_id_length check (char_length(user_id) between 1 and 255),
    constraint bookings_one_seat_per_user unique (event_id, user_id)
);

create index bookings_user_id_idx on booking.bookings (user_id);
