create schema chat;

create table chat.rooms (
    id          uuid        primary key,
    name        text        not null,
    is_private  boolean     not null,
    created_by  uuid        not null,
    created_at  timestamptz not null default now(),
    archived_at timestamptz                             -- read-only once archived
);

-- Who is in a room, and who moderates it (the creator at first).
create table chat.members (
    room_id      uuid        not null references chat.rooms (id),
    user_id      uuid        not null,
    role         text        not null check (role in ('member', 'moderator')),
    joined_at    timestamptz not null default now(),
    last_read_at timestamptz not null default now(),
    primary key (room_id, user_id)
);
create index members_user on chat.members (user_id);

-- Every message with its moderation: status from the verdict (approved | held | rejected), then a reviewer's
-- decision (approved = released, removed), or deleted by its author. Only approved messages reach others.
create table chat.messages (
    id             uuid        primary key,              -- version 7: ordered by time, the room's order
    room_id        uuid        not null references chat.rooms (id),
    author_id      uuid        not null,
    author_name    text        not null,
    text           text        not null,
    html           text        not null,                 -- Markdown rendered, then sanitised
    status         text        not null check (status in ('approved', 'held', 'rejected', 'removed', 'deleted')),
    action         text        not null,                 -- the moderator's verdict: approve | review | reject
    flagged        text[]      not null,                 -- categories not approved
    scores         jsonb       not null,
    language       text        not null,
    model_id       uuid        not null,
    model_version  int         not null,
    policy_version int         not null,
    posted_at      timestamptz not null default now(),
    edited_at      timestamptz,
    decided_at     timestamptz,
    decided_by     uuid
);
create index messages_room on chat.messages (room_id, id);
create index messages_held on chat.messages (room_id) where status = 'held';

-- Per person and category: messages scoring above the level are blurred for them.
create table chat.filters (
    user_id  uuid not null,
    category text not null,
    level    real not null check (level >= 0 and level <= 1),
    primary key (user_id, category)
);
