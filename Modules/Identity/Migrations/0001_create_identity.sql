create schema identity;

create table identity.users (
    id                 uuid        primary key,
    email              text        not null,
    display_name       text        not null,
    role               text        not null check (role in ('Member', 'Annotator', 'Admin')),
    password_hash      text,                       -- null until an invitation is accepted
    is_service_account boolean     not null default false,
    disabled_at        timestamptz,
    failed_sign_ins    int         not null default 0,
    locked_until       timestamptz,
    security_stamp     uuid        not null,       -- changes on password, role or status change: old sessions end
    created_at         timestamptz not null default now(),
    last_sign_in_at    timestamptz
);
create unique index users_email on identity.users (lower(email));

-- Single-use links: an invitation sets a new person's password, a reset sets an existing one's.
create table identity.invitations (
    id          uuid        primary key,
    token_hash  text        not null unique,
    user_id     uuid        not null references identity.users (id),
    kind        text        not null check (kind in ('invite', 'reset')),
    created_by  uuid        references identity.users (id),
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    used_at     timestamptz
);
create index invitations_user on identity.invitations (user_id);

create table identity.api_keys (
    id           uuid        primary key,
    user_id      uuid        not null references identity.users (id),
    name         text        not null,
    prefix       text        not null,             -- the first characters, shown so people can tell keys apart
    key_hash     text        not null unique,
    role_cap     text        not null check (role_cap in ('Member', 'Annotator', 'Admin')),
    created_by   uuid        references identity.users (id),
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
create index api_keys_user on identity.api_keys (user_id);

create table identity.audit_log (
    id       uuid        primary key,
    at       timestamptz not null default now(),
    actor_id uuid,
    kind     text        not null,
    subject  text,
    details  jsonb       not null default '{}',
    ip       text
);
create index audit_log_at on identity.audit_log (at desc, id desc);
create index audit_log_kind on identity.audit_log (kind, at desc);
create index audit_log_actor on identity.audit_log (actor_id, at desc);
