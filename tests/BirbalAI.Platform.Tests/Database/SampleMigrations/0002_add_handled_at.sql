-- Only works after 0001: proves the migrator applies files in order.
alter table sample.handled add column handled_at timestamptz not null default now();
