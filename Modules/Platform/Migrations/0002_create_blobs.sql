-- Content-addressed blobs (model artifacts, dataset snapshots) when Blobs:Store is "postgres" (the default).
create table platform.blobs (
    hash       text        primary key,   -- SHA-256 of the bytes, hex
    size       bigint      not null,
    bytes      bytea       not null,
    created_at timestamptz not null default now()
);
