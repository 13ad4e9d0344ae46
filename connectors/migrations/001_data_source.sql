-- Data sources: one row per configured source. Secrets live in their own table (never selected
-- with the row, never returned by the API); a Telegraf source's token is stored only as a hash.
create table data_source (
    id uuid primary key default gen_random_uuid(),
    name text not null unique,
    type text not null,
    enabled boolean not null default true,
    config jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table data_source_secret (
    source_id uuid primary key references data_source (id) on delete cascade,
    secrets jsonb not null default '{}'::jsonb
);

create table data_source_token (
    source_id uuid primary key references data_source (id) on delete cascade,
    token_hash text not null unique,
    created_at timestamptz not null default now()
);

-- Producer managers LISTEN on this channel and reconcile at once instead of at the next tick.
create function data_source_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('data_source_changed:' || tg_table_schema, coalesce(new.id, old.id)::text);
    return null;
end $$;

create trigger data_source_changed after insert or update or delete on data_source
    for each row execute function data_source_changed();
