create schema sample;
create table sample.handled (
    message_id uuid not null,
    note       text not null
);
