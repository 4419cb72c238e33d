-- Training jobs (run by Hangfire): what to train on and how, where they are, their log, and the version they registered.
-- A job runs only after claiming its row (queued -> running); a job whose worker stopped sending heartbeats is queued
-- again or marked failed by the watchdog, so none stays "running".
create table ml.training_jobs (
    id               uuid        primary key,
    number           int         not null unique,
    created_at       timestamptz not null default now(),
    created_by       uuid,
    trigger          text        not null check (trigger in ('page', 'api', 'cli', 'schedule')),
    snapshot_id      uuid        not null references ml.snapshots (id),
    kind             text        not null,
    parameters       jsonb       not null,
    status           text        not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts         int         not null default 0,
    worker           text,
    epoch            int,
    epochs           int,
    loss             double precision,
    eta_seconds      double precision,
    started_at       timestamptz,
    heartbeat_at     timestamptz,
    finished_at      timestamptz,
    cancel_requested boolean     not null default false,
    error            text,
    version_id       uuid        references ml.model_versions (id),
    log              text        not null default ''
);
create index training_jobs_active on ml.training_jobs (status) where status in ('queued', 'running');

alter table ml.model_versions
    add column training_job_id uuid,
    add column test_report     jsonb;   -- per category and language on the snapshot's test split (plots, comparisons)
