-- Labelled examples: one per (source, content id); a later label of the same content replaces the earlier one. The split is
-- assigned when a snapshot first includes the example and never changes, so an example never moves from test to train.
-- text is null once the content's owner removed it (its row stays: snapshots and model versions refer to it).
create table ml.examples (
    id          uuid        primary key,
    source      text        not null,                 -- where the content lives: a chat message, "import:<name>", …
    content_id  text        not null,                 -- the owner's id of the content (or the text's hash for imports)
    text        text,
    language    text        not null,
    categories  text[]      not null,                 -- empty: none applies
    origin      text        not null check (origin in ('label', 'import')),
    labelled_at timestamptz not null,
    labelled_by uuid,
    split       text        check (split in ('train', 'validation', 'test')),
    removed_at  timestamptz,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    unique (source, content_id)
);
create index examples_created_at on ml.examples (created_at);

-- Immutable, numbered snapshots of the examples; the JSONL itself is a blob (its hash is the data hash).
create table ml.snapshots (
    id         uuid        primary key,
    number     int         not null unique,
    created_at timestamptz not null default now(),
    created_by uuid,
    blob_hash  text        not null,
    size       bigint      not null,
    examples   int         not null,
    train      int         not null,
    validation int         not null,
    test       int         not null,
    counts     jsonb       not null                   -- [{category, language, train, validation, test}]
);

-- Which examples a snapshot holds: retention keeps every example of a snapshot a registered version was trained on.
create table ml.snapshot_examples (
    snapshot_id uuid not null references ml.snapshots (id) on delete cascade,
    example_id  uuid not null references ml.examples (id) on delete cascade,
    primary key (snapshot_id, example_id)
);
create index snapshot_examples_example on ml.snapshot_examples (example_id);

alter table ml.model_versions add column snapshot_id uuid references ml.snapshots (id);
