-- The PostgreSQL schema: the SQLite migrations 0001..0005 combined. Times are unix
-- milliseconds (BIGINT), JSON is stored as TEXT exactly as in SQLite, blobs are BYTEA.

CREATE TABLE recipes (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    enabled       BOOLEAN NOT NULL,
    version       BIGINT NOT NULL,
    source        TEXT NOT NULL,
    webhook_token TEXT NOT NULL UNIQUE,
    managed_by    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Every version a run was evaluated against stays readable.
CREATE TABLE recipe_versions (
    recipe_id  TEXT NOT NULL,
    version    BIGINT NOT NULL,
    source     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (recipe_id, version)
);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    recipe_id    TEXT NOT NULL,
    trigger      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    content_type TEXT,
    headers      TEXT NOT NULL,
    body         BYTEA NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT
);
-- Keyset paging of the event lists, overall and per recipe, filtered by status or not.
CREATE INDEX events_received ON events (received_at DESC, id DESC);
CREATE INDEX events_recipe_received ON events (recipe_id, received_at DESC, id DESC);
CREATE INDEX events_status_received ON events (status, received_at DESC, id DESC);
CREATE INDEX events_recipe_status_received ON events (recipe_id, status, received_at DESC, id DESC);

-- The processing queue. A row exists from ingest until its run is committed.
-- A replayed event skips the dedupe check: the operator asked for it to run again.
CREATE TABLE event_jobs (
    event_id    TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    run_after   BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    claims      BIGINT NOT NULL DEFAULT 0,
    skip_dedupe BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX event_jobs_due ON event_jobs (run_after);

CREATE TABLE runs (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    recipe_id      TEXT NOT NULL,
    recipe_version BIGINT NOT NULL,
    status         TEXT NOT NULL,
    dedupe_key     TEXT,
    output         TEXT,
    error          TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX runs_event ON runs (event_id);

CREATE TABLE dedupe_keys (
    recipe_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    seen_at   BIGINT NOT NULL,
    PRIMARY KEY (recipe_id, key)
);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    run_id          TEXT NOT NULL,
    recipe_id       TEXT NOT NULL,
    action_index    BIGINT NOT NULL,
    action_name     TEXT NOT NULL,
    action          TEXT NOT NULL,
    output          TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempt_count   BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_recipe_status ON deliveries (recipe_id, status, updated_at);

CREATE TABLE attempts (
    id               BIGSERIAL PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt_no       BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    status_code      BIGINT,
    response_snippet TEXT,
    error            TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt_no);

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A tick runs only after its row is inserted: the primary key makes it once per cluster.
-- A tick is complete once its events are stored (same transaction). A claim that never
-- completed (the process died mid-poll) is taken over after a while and counts as missed.
CREATE TABLE schedule_ticks (
    recipe_id     TEXT NOT NULL,
    scheduled_for BIGINT NOT NULL,
    claimed_by    TEXT NOT NULL,
    claimed_at    BIGINT NOT NULL,
    -- Ticks missed while no server ran, skipped in favour of this one (catch-up runs only the latest).
    skipped       BIGINT NOT NULL DEFAULT 0,
    completed_at  BIGINT,
    PRIMARY KEY (recipe_id, scheduled_for)
);

-- Operators and machines: one admin account (argon2 hash), browser sessions and API tokens.
-- Session ids and API tokens are stored as SHA-256 hashes: a copy of the database does not log in.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- A sender's retry carries the id of its first delivery (webhook-id, X-GitHub-Delivery, ...):
-- the primary key makes "same id again" one answer, checked in the event's own transaction.
CREATE TABLE sender_deliveries (
    recipe_id   TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    seen_at     BIGINT NOT NULL,
    PRIMARY KEY (recipe_id, delivery_id)
);

-- Calls refused by a recipe's verify check: how many, and why the latest was (never a secret).
CREATE TABLE webhook_refusals (
    recipe_id   TEXT PRIMARY KEY,
    count       BIGINT NOT NULL,
    last_reason TEXT NOT NULL,
    last_at     BIGINT NOT NULL
);
