-- Draft policies: thresholds saved without being in force. An admin previews a draft's impact (an impact preview: a capped
-- re-scoring run over recent content that is never applied) and publishes it, which saves it as the next policy version
-- (ml.policies, audited as any change) and records that version here.
create table ml.policy_drafts (
    id           uuid        primary key,
    name         text        not null check (length(name) between 1 and 100),
    thresholds   jsonb       not null,
    note         text,
    based_on     int         not null,   -- the policy version in force when it was saved
    created_by   uuid,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    published_as int                     -- the policy version it became; null while a draft
);

-- An impact preview is a re-scoring run that only counts: over content written since `since` (`in_window` items when it
-- started), at most `max_items` of them, under the draft's thresholds as they were when it started (`thresholds`; null: the
-- policy in force), and never applied.
alter table ml.rescoring_runs
    add column preview    boolean     not null default false,
    add column draft_id   uuid        references ml.policy_drafts (id) on delete set null,
    add column thresholds jsonb,
    add column since      timestamptz,
    add column max_items  int,
    add column in_window  bigint;
