// migrations/postgres.js - the PostgreSQL schema of the sync server, as
// versioned migrations: entry i takes the database from version i to i + 1.
// storage/postgres.js runs the pending ones on start, each in its own
// transaction, and records them in nitro_migrations; starting instances take
// an advisory lock so only one of them migrates.
//
// The tables mirror storage/sqlite.js (records, clients, receipts, meta),
// prefixed because they share a database with the application's own tables.
// Never edit a shipped entry: add a new one.

export const MIGRATIONS = [
  `CREATE TABLE nitro_records (
     entity  text    NOT NULL,
     id      text    NOT NULL,
     owner   text    NOT NULL,
     scope   text    NOT NULL,
     version bigint  NOT NULL,
     writer  text    NOT NULL DEFAULT '',
     deleted boolean NOT NULL DEFAULT false,
     data    text,
     PRIMARY KEY (entity, id)
   );
   -- pulls: one scope, versions above a checkpoint, in order
   CREATE INDEX nitro_records_scope_version ON nitro_records (scope, version);
   -- catch-up: everything other instances wrote above a version
   CREATE INDEX nitro_records_version ON nitro_records (version);
   CREATE TABLE nitro_clients (
     user_id text   NOT NULL,
     client  text   NOT NULL,
     done    bigint NOT NULL DEFAULT 0,
     PRIMARY KEY (user_id, client)
   );
   CREATE TABLE nitro_receipts (
     user_id text   NOT NULL,
     client  text   NOT NULL,
     seq     bigint NOT NULL,
     result  text   NOT NULL,
     PRIMARY KEY (user_id, client, seq)
   );
   CREATE TABLE nitro_meta (key text PRIMARY KEY, value text NOT NULL);
   -- the row every push locks: it orders all writers (storage/postgres.js)
   INSERT INTO nitro_meta (key, value) VALUES ('head', '0');`,
  // 2: records are keyed in their scope's namespace (each user has their own
  // ids of private entities; docs/sync.md)
  `ALTER TABLE nitro_records DROP CONSTRAINT nitro_records_pkey;
   ALTER TABLE nitro_records ADD PRIMARY KEY (entity, scope, id);`,
];
