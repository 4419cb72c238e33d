create schema annotation;

-- A project: its label schema (categories in key order, which of them are severe), how many people label each task
-- (overlap), how long a reservation lasts, its guidelines (Markdown; rendered and sanitised when shown), quality settings.
-- The moderation review project (kind 'moderation') is open to every Annotator; a labelling project to its members.
create table annotation.projects (
    id                  uuid        primary key,
    name                text        not null unique,
    kind                text        not null check (kind in ('moderation', 'labelling')),
    categories          text[]      not null,
    extra_categories    text[]      not null default '{}',   -- admins' own, after the moderation ones
    overlap             int         not null check (overlap between 1 and 20),
    reservation_minutes int         not null check (reservation_minutes between 1 and 1440),
    guidelines          text        not null,
    golden_rate         real        not null default 0 check (golden_rate >= 0 and golden_rate <= 1),
    second_review_share real        not null default 0 check (second_review_share >= 0 and second_review_share <= 1),
    open_to_annotators  boolean     not null,
    created_at          timestamptz not null default now()
);

create table annotation.project_members (
    project_id uuid not null references annotation.projects (id),
    user_id    uuid not null,
    primary key (project_id, user_id)
);

-- One item to label. For content another module owns, (source, content_id) names it; the model's verdict comes with it
-- (scores, action, explanation recomputed with the model version named in explained_with). Status: open (in the queue),
-- review (labelled by `overlap` people, waiting for a reviewer), done (decided / accepted), closed (nothing to decide:
-- decided in Chat, withdrawn; closed_reason says which). A golden task carries its known answer and never completes.
create table annotation.tasks (
    id              uuid        primary key,
    project_id      uuid        not null references annotation.projects (id),
    source          text        not null,
    content_id      uuid,
    kind            text        not null,                   -- held | flagged | item
    text            text        not null,
    language        text        not null,
    scores          jsonb       not null default '{}',
    action          text,                                   -- the model's: approve | review | reject
    explanation     jsonb       not null default '[]',
    explained_with  uuid,
    matches         text[]      not null default '{}',
    severe          boolean     not null default false,
    severity        real        not null default 0,         -- queue order: severe first, then the highest flagged score
    status          text        not null default 'open' check (status in ('open', 'review', 'done', 'closed')),
    labelled        int         not null default 0,         -- published labels
    golden          text[],
    second_review   boolean     not null default false,
    outcome         text,                                   -- release | remove (moderation tasks)
    final_categories text[],
    closed_reason   text,
    decided_by      uuid,
    decided_by_name text,
    decided_at      timestamptz,
    created_at      timestamptz not null default now()
);
create unique index tasks_content on annotation.tasks (project_id, source, content_id) where content_id is not null;
create index tasks_queue on annotation.tasks (project_id, severity desc, created_at) where status = 'open';
create index tasks_by_content on annotation.tasks (source, content_id);

-- Who holds or held a task: a reservation until expires_at, then submitted or skipped (with a reason). One per person and task.
create table annotation.assignments (
    task_id     uuid        not null references annotation.tasks (id),
    user_id     uuid        not null,
    state       text        not null check (state in ('reserved', 'submitted', 'skipped')),
    reserved_at timestamptz not null default now(),
    expires_at  timestamptz not null,
    skip_reason text,
    primary key (task_id, user_id)
);
create index assignments_user on annotation.assignments (user_id, state);

-- A person's label of a task. It can be undone until publish_at; then the publisher applies it (published_at).
create table annotation.annotations (
    id             uuid        primary key,
    task_id        uuid        not null references annotation.tasks (id),
    user_id        uuid        not null,
    user_name      text        not null,
    categories     text[]      not null,
    severities     jsonb       not null default '{}',
    note           text,
    decision       text check (decision in ('release', 'remove')),
    submitted_at   timestamptz not null default now(),
    publish_at     timestamptz not null,
    published_at   timestamptz,
    golden_correct boolean,
    unique (task_id, user_id)
);
create index annotations_unpublished on annotation.annotations (publish_at) where published_at is null;
create index annotations_user on annotation.annotations (user_id, submitted_at);

-- A reviewer's word on a task's labels: accepted as they were, or corrected.
create table annotation.reviews (
    task_id     uuid        not null references annotation.tasks (id),
    reviewer_id uuid        not null,
    categories  text[]      not null,
    corrected   boolean     not null,
    reviewed_at timestamptz not null default now(),
    primary key (task_id, reviewer_id)
);

-- Reviewer protection: how severe items are hidden (blur or greyscale), and each reveal (the daily limit counts them).
create table annotation.reviewer_settings (
    user_id uuid primary key,
    hiding  text not null check (hiding in ('blur', 'greyscale'))
);
create table annotation.reveals (
    user_id     uuid        not null,
    task_id     uuid        not null references annotation.tasks (id),
    revealed_at timestamptz not null default now(),
    primary key (user_id, task_id)
);
create index reveals_day on annotation.reveals (user_id, revealed_at);

-- Where backfill from a source stopped (the last content id read).
create table annotation.backfill (
    source  text primary key,
    last_id uuid not null,
    at      timestamptz not null default now()
);
