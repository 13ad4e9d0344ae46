-- Source secrets sealed (envelope encryption, streamapp/sealing.py): the `secrets` column keeps
-- only what rows held before; the store seals those at start (it has SECRETS_KEY, SQL has not)
-- and empties the column.
alter table data_source_secret add column sealed text;
