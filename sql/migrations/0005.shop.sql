-- The shop: users and addresses, categories and products, orders with stock control,
-- per-category daily sales statistics, daily reports and their outbox.
-- depends: 0001.foundation

create schema shop;
comment on schema shop is 'Users, products, orders (stock never negative), sales statistics, daily reports.';
grant usage on schema shop to tally_app;

create table shop.users (
    id          bigint generated always as identity primary key,
    username    text        not null,
    email       text        not null,
    description text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint users_username_format check (username ~ '^[A-Za-z0-9_.-]{3,50}$'),
    constraint users_email_format check (char_length(email) <= 254
                                         and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                                         and email = lower(email)),
    constraint users_description_length check (char_length(description) <= 1000)
);
-- Usernames are unique regardless of case; emails are stored lower-cased.
create unique index users_username_key on shop.users (lower(username));
create unique index users_email_key on shop.users (email);

create table shop.addresses (
    id         bigint generated always as identity primary key,
    user_id    bigint      not null constraint addresses_user_fk
                               references shop.users (id) on delete cascade,
    street     text        not null,
    city       text        not null,
    state      text        not null,
    zip_code   text        not null,
    country    text        not null,
    is_primary boolean     not null default false,
    created_at timestamptz not null default now(),
    constraint addresses_street_length check (char_length(street) between 1 and 200),
    constraint addresses_city_length check (char_length(city) between 1 and 100),
    constraint addresses_state_length check (char_length(state) between 0 and 100),
    constraint addresses_zip_code_length check (char_length(zip_code) between 1 and 20),
    constraint addresses_country_length check (char_length(country) between 2 and 100),
    -- lets orders reference (address, user) so an order's address is always its user's
    constraint addresses_id_user_key unique (id, user_id)
);
create unique index addresses_one_primary_per_user on shop.addresses (user_id) where is_primary;

create table shop.categories (
    id   bigint generated always as identity primary key,
    name text not null,
    constraint categories_name_length check (char_length(name) between 1 and 100)
);
create unique index categories_name_key on shop.categories (lower(name));

create table shop.products (
    id             bigint generated always as identity primary key,
    name           text          not null,
    description    text,
    price          numeric(12,2) not null,
    stock_quantity integer       not null,
    category_id    bigint        not null constraint products_category_fk
                                     references shop.categories (id),
    created_at     timestamptz   not null default now(),
    updated_at     timestamptz   not null default now(),
    constraint products_name_length check (char_length(name) between 1 and 200),
    constraint products_description_length check (char_length(description) <= 2000),
    constraint products_price_positive check (price > 0),
    -- the last line of defence: no writer can oversell
    constraint products_stock_nonnegative check (stock_quantity >= 0)
);
create index products_category_idx on shop.products (category_id);
create index products_price_idx on shop.products (price);

create type shop.order_status as enum ('PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED');

create table shop.orders (
    id                  bigint generated always as identity primary key,
    user_id             bigint            not null constraint orders_user_fk
                                              references shop.users (id),
    delivery_address_id bigint            not null,
    status              shop.order_status not null default 'PENDING',
    total_price         numeric(14,2)     not null,
    created_at          timestamptz       not null default now(),
    updated_at          timestamptz       not null default now(),
    constraint orders_address_is_users foreign key (delivery_address_id, user_id)
        references shop.addresses (id, user_id),
    constraint orders_total_nonnegative check (total_price >= 0)
);
create index orders_user_created_idx on shop.orders (user_id, created_at desc, id desc);
create index orders_created_idx on shop.orders (created_at desc, id desc);
create index orders_address_idx on shop.orders (delivery_address_id, user_id);

-- category_id and order_day are copied from the product and the order when the line is
-- written (by shop.create_order), so the statistics trigger needs no lookup.
create table shop.order_items (
    order_id       bigint        not null constraint order_items_order_fk
                                     references shop.orders (id),
    product_id     bigint        not null constraint order_items_product_fk
                                     references shop.products (id),
    quantity       integer       not null,
    price_at_order numeric(12,2) not null,
    category_id    bigint        not null,
    order_day      date          not null,
    constraint order_items_pkey primary key (order_id, product_id),
    constraint order_items_quantity_positive check (quantity > 0),
    constraint order_items_price_positive check (price_at_order > 0)
);
create index order_items_product_idx on shop.order_items (product_id);

-- Sales statistics, striped: a transaction adds to the stripe of its backend
-- (pg_backend_pid() % 256), so concurrent orders of one category and day do not queue on
-- one row. shop.statistics (a view) sums the stripes: exact, in the same transaction.
create table shop.statistics_shards (
    category_id  bigint   not null,
    report_date  date     not null,
    shard        smallint not null,
    items_sold   bigint   not null,
    orders_count bigint   not null,
    constraint statistics_shards_pkey primary key (category_id, report_date, shard)
) with (fillfactor = 50);  -- room on the page for HOT updates of the hot rows
create index statistics_shards_date_idx on shop.statistics_shards (report_date);

create table shop.reports (
    id            bigint generated always as identity primary key,
    report_at     date    not null,
    order_id      bigint  not null constraint reports_order_fk references shop.orders (id),
    count_product integer not null,
    constraint reports_one_per_order unique (report_at, order_id)
);

-- The transactional outbox of report summaries (the original's queue `report`): written
-- in the same transaction as the reports, announced with NOTIFY shop_reports.
create table shop.report_outbox (
    id            bigint generated always as identity primary key,
    report_date   date        not null,
    reports_count integer     not null,
    reports       jsonb       not null,
    created_at    timestamptz not null default now(),
    constraint report_outbox_one_per_day unique (report_date)
);
