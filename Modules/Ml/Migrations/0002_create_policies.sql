-- The moderation policy: per category, the score from which content is held for review and the score
-- from which it is rejected. Every edit is a new version; the highest version is in force.
create table ml.policies (
    version    int         primary key,
    thresholds jsonb       not null,                   -- {"hate": {"review": 0.5, "reject": 0.9}, …}
    note       text,
    created_at timestamptz not null default now(),
    created_by uuid                                    -- null for the default below
);

insert into ml.policies (version, thresholds, note) values (1, '{
    "harassment": {"review": 0.5, "reject": 0.9},
    "harassment/threatening": {"review": 0.5, "reject": 0.9},
    "hate": {"review": 0.5, "reject": 0.9},
    "hate/threatening": {"review": 0.5, "reject": 0.9},
    "illicit": {"review": 0.5, "reject": 0.9},
    "illicit/violent": {"review": 0.5, "reject": 0.9},
    "self-harm": {"review": 0.5, "reject": 0.9},
    "self-harm/intent": {"review": 0.5, "reject": 0.9},
    "self-harm/instructions": {"review": 0.5, "reject": 0.9},
    "sexual": {"review": 0.5, "reject": 0.9},
    "sexual/minors": {"review": 0.5, "reject": 0.9},
    "violence": {"review": 0.5, "reject": 0.9},
    "violence/graphic": {"review": 0.5, "reject": 0.9}
}', 'default policy');
