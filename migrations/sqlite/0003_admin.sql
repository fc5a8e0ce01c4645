-- Operators and machines: one admin account (argon2 hash), browser sessions and API tokens.
-- Session ids and API tokens are stored as SHA-256 hashes: a copy of the database does not log in.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- A replayed event skips the dedupe check: the operator asked for it to run again.
ALTER TABLE event_jobs ADD COLUMN skip_dedupe INTEGER NOT NULL DEFAULT 0;

-- Keyset paging of the event lists, overall and per recipe, filtered by status or not.
DROP INDEX events_received;
DROP INDEX events_recipe_received;
CREATE INDEX events_received ON events (received_at DESC, id DESC);
CREATE INDEX events_recipe_received ON events (recipe_id, received_at DESC, id DESC);
CREATE INDEX events_status_received ON events (status, received_at DESC, id DESC);
CREATE INDEX events_recipe_status_received ON events (recipe_id, status, received_at DESC, id DESC);
CREATE INDEX deliveries_recipe_status ON deliveries (recipe_id, status, updated_at);
