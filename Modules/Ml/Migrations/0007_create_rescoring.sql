-- Batch re-scoring runs (Hangfire): stored chat messages and document chunks scored again with one registered version, under
-- the policy in force. A run is split into partitions (a hash of the content id, as the owners' content sources cut it); each
-- partition is one Hangfire job with its own checkpoint: the source it is on and the last content id it scored, written in the
-- transaction that stores that batch's results, so a job that dies resumes after its last committed batch and scores every
-- item once (the results' primary key would refuse a second score).
create table ml.rescoring_runs (
    id               uuid        primary key,
    number           int         not null unique,
    created_at       timestamptz not null default now(),
    created_by       uuid,
    trigger          text        not null check (trigger in ('page', 'api', 'cli')),
    version_id       uuid        not null references ml.model_versions (id),
    sources          text[]      not null,
    partitions       int         not null check (partitions >= 1),
    batch_size       int         not null,
    pause_ms         int         not null,
    total            bigint      not null,         -- items standing when it started (for progress)
    status           text        not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    cancel_requested boolean     not null default false,
    error            text,
    finished_at      timestamptz,
    applied_at       timestamptz,
    applied_by       uuid
);
create index rescoring_runs_active on ml.rescoring_runs (status) where status in ('queued', 'running');

create table ml.rescoring_partitions (
    run_id       uuid        not null references ml.rescoring_runs (id),
    partition    int         not null,
    status       text        not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    source_index int         not null default 0,   -- the run's source it is on (index into sources)
    cursor       uuid,                             -- the last content id of that source it scored; null: from the start
    scored       bigint      not null default 0,
    skipped      bigint      not null default 0,   -- too large to score now (Ml:Limits)
    batches      int         not null default 0,
    attempts     int         not null default 0,
    worker       text,
    started_at   timestamptz,
    heartbeat_at timestamptz,
    finished_at  timestamptz,
    error        text,
    primary key (run_id, partition)
);

-- One re-scored item: what it was (status, overall action) and what it would be, per category the actions that changed
-- ({"hate": "approve>review"}: its stored scores and its new ones, both under the policy in force), the new scores.
create table ml.rescoring_items (
    run_id      uuid        not null references ml.rescoring_runs (id),
    source      text        not null,
    content_id  uuid        not null,
    partition   int         not null,
    old_status  text        not null,
    old_action  text        not null,
    new_action  text        not null,
    changes     jsonb       not null,
    scores      jsonb       not null,
    flagged     jsonb       not null,
    written_at  timestamptz not null,
    policy_version int      not null,
    primary key (run_id, source, content_id)
);
