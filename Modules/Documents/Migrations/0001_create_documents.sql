create schema documents;

-- One upload. Its original file and extracted text are in the document store (collection "documents.bodies"), encrypted.
create table documents.documents (
    id             uuid        primary key,              -- version 7
    owner_id       uuid        not null,
    owner_name     text        not null,
    title          text        not null,
    file_name      text        not null,
    type           text        not null check (type in ('text', 'markdown', 'html', 'pdf', 'docx')),
    size           bigint      not null,
    content_hash   text        not null,                 -- SHA-256 of the original bytes, hex: the same file twice is one document
    pages          int,
    note           text,                                 -- "no extractable text"
    status         text        not null check (status in ('processing', 'approved', 'partially-held', 'held', 'partially-rejected', 'rejected', 'failed')),
    failure_reason text,
    language       text,                                 -- the most frequent language of its chunks
    visibility     text        not null check (visibility in ('private', 'room', 'all')),
    room_id        uuid,                                 -- for visibility 'room' (a chat room, checked through Contracts.Chat)
    key_id         text        not null,                 -- the content key its body is sealed with
    created_at     timestamptz not null default now(),
    processed_at   timestamptz,
    check ((visibility = 'room') = (room_id is not null)),
    unique (owner_id, content_hash)
);
create index documents_owner on documents.documents (owner_id);

-- A chunk with its verdict. The text is kept in clear: reviewers read it and the search index is built from it.
create table documents.chunks (
    id                 uuid        primary key,
    document_id        uuid        not null references documents.documents (id) on delete cascade,
    ordinal            int         not null,
    start_offset       int         not null,
    length             int         not null,
    text               text        not null,
    status             text        not null check (status in ('approved', 'held', 'rejected', 'removed')),
    action             text        not null,
    flagged            text[]      not null default '{}',
    scores             jsonb       not null,
    language           text        not null,
    model_id           uuid        not null,
    model_version      int         not null,
    policy_version     int         not null,
    flagged_for_review boolean     not null default false,
    search_config      regconfig   not null,
    search             tsvector    generated always as (to_tsvector(search_config, text)) stored,
    decided_at         timestamptz,
    decided_by         uuid,
    unique (document_id, ordinal)
);
create index chunks_search on documents.chunks using gin (search);
