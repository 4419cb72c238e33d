-- The document store's PostgreSQL implementation (the default): JSON bodies by collection and id.
create table platform.documents (
    collection text        not null,
    id         uuid        not null,
    body       jsonb       not null,
    updated_at timestamptz not null default now(),
    primary key (collection, id)
);
