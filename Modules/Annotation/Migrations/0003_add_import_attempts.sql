-- How many times a large import's job has claimed it: a failure tries again until Annotation:ImportJobAttempts, and a claim
-- past it (the workers of every attempt stopped before they finished) ends the import failed instead of running once more.
alter table annotation.imports add column attempts int not null default 0;
