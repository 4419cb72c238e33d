-- A large import, run as a Hangfire job (Annotation:ImportJobThresholdBytes): the uploaded file until the job has read it,
-- and its progress (phase reading | writing, rows so far), then its report (imported, the bad rows) or why nothing was imported.
create table annotation.imports (
    id            uuid        primary key,
    project_id    uuid        not null references annotation.projects (id),
    format        text        not null,
    skip_bad_rows boolean     not null,
    file          bytea,
    bytes         bigint      not null,
    status        text        not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
    phase         text,
    rows_read     int         not null default 0,
    rows_written  int         not null default 0,
    imported      int,
    errors        jsonb       not null default '[]',
    error         text,
    created_by    uuid        not null,
    created_at    timestamptz not null default now(),
    finished_at   timestamptz
);
create index imports_project on annotation.imports (project_id, created_at desc);
