-- Times are unix milliseconds (INTEGER) so comparisons are exact and portable to PostgreSQL BIGINT.

CREATE TABLE recipes (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    enabled       INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    source        TEXT NOT NULL,
    webhook_token TEXT NOT NULL UNIQUE,
    managed_by    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Every version a run was evaluated against stays readable.
CREATE TABLE recipe_versions (
    recipe_id  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    source     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (recipe_id, version)
);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    recipe_id    TEXT NOT NULL,
    trigger      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    content_type TEXT,
    headers      TEXT NOT NULL,
    body         BLOB NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT
);
CREATE INDEX events_recipe_received ON events (recipe_id, received_at DESC);
CREATE INDEX events_received ON events (received_at DESC);

-- The processing queue. A row exists from ingest until its run is committed.
CREATE TABLE event_jobs (
    event_id    TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    run_after   INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    claims      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX event_jobs_due ON event_jobs (run_after);

CREATE TABLE runs (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    recipe_id      TEXT NOT NULL,
    recipe_version INTEGER NOT NULL,
    status         TEXT NOT NULL,
    dedupe_key     TEXT,
    output         TEXT,
    error          TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX runs_event ON runs (event_id);

CREATE TABLE dedupe_keys (
    recipe_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    seen_at   INTEGER NOT NULL,
    PRIMARY KEY (recipe_id, key)
);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    run_id          TEXT NOT NULL,
    recipe_id       TEXT NOT NULL,
    action_index    INTEGER NOT NULL,
    action_name     TEXT NOT NULL,
    action          TEXT NOT NULL,
    output          TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt_no       INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status_code      INTEGER,
    response_snippet TEXT,
    error            TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt_no);

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
