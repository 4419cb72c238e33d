-- Page sessions kept on the server, so signing out ends the session itself and not only the browser's cookie.
create table identity.sessions (
    id uuid primary key,
    user_id uuid not null references identity.users (id),
    started_at timestamptz not null default now(),
    ended_at timestamptz
);

create index sessions_open_by_user on identity.sessions (user_id) where ended_at is null;
