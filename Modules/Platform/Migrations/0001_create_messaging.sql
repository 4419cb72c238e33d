-- Events written in the same transaction as the change that raised them; the relay publishes them.
create table platform.outbox (
    id           uuid        primary key,
    wire_name    text        not null,
    payload      jsonb       not null,
    headers      jsonb       not null default '{}',
    created_at   timestamptz not null default now(),
    published_at timestamptz,
    attempts     int         not null default 0,
    last_error   text
);
create index outbox_unpublished on platform.outbox (created_at) where published_at is null;

-- One row per (message, handler) that has been handled: a redelivered message is handled once.
create table platform.inbox (
    message_id uuid        not null,
    handler    text        not null,
    handled_at timestamptz not null default now(),
    primary key (message_id, handler)
);
