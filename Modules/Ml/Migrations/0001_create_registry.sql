create schema ml;

-- Every trained model version, kept with what it needs to be served and judged.
create table ml.model_versions (
    id            uuid        primary key,
    number        int         not null unique,          -- v1, v2, … in the order they were registered
    created_at    timestamptz not null default now(),
    artifact_hash text        not null,                 -- the ONNX file in the blob store
    artifact_size bigint      not null,
    categories    text[]      not null,
    thresholds    real[]      not null,
    featurizer    jsonb       not null,
    training      jsonb       not null,
    data_hash     text        not null,
    metrics       jsonb,                                -- the evaluation report, null when none was made
    source        text        not null                  -- e.g. "synthetic starter data", never passed off as real-world quality
);

-- The one version live requests use.
create table ml.production (
    singleton   boolean     primary key default true check (singleton),
    version_id  uuid        not null references ml.model_versions (id),
    promoted_at timestamptz not null default now(),
    promoted_by uuid
);
