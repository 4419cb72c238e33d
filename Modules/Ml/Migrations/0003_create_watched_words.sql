-- Watched words: an admin's own words, phrases and regular expressions, versioned with the policy. A row is
-- one edit of an entry (id stays the same across edits), in force from policy version added_in until the
-- version that removed or replaced it (removed_in, exclusive). The list in force: removed_in is null.
create table ml.watched_words (
    id          uuid        not null,
    added_in    int         not null references ml.policies (version),
    removed_in  int                  references ml.policies (version),
    pattern     text        not null,
    kind        text        not null check (kind in ('word', 'regex')),
    action      text        not null check (action in ('block', 'require-approval', 'flag', 'censor', 'replace', 'add-category')),
    replacement text,
    category    text,
    language    text,
    whole_word  boolean     not null default true,
    created_at  timestamptz not null default now(),
    created_by  uuid,
    primary key (id, added_in)
);
create index watched_words_in_force on ml.watched_words (id) where removed_in is null;
