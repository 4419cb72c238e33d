-- Watched words on a message: the text shown to readers when they censor or replace (null when it is the text as
-- written), the matches as the verdict gave them, and the "flag" marker (approved, and sent to review). From now
-- on `flagged` also names the watched words that blocked or held a message ("watched word: …") after its categories.
alter table chat.messages
    add column display_text       text,
    add column watched            jsonb   not null default '[]',
    add column flagged_for_review boolean not null default false;
