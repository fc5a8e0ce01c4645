-- A delivery names the recipe version its run used (recipe_versions keeps every source) and the
-- action's index in it; the claim reads the run's output from `runs`. New deliveries store no
-- copy of either, so `action` and `output` become nullable; rows written before this migration
-- keep their copies (recipe_version NULL) and are delivered from them.
--
-- SQLite cannot drop NOT NULL in place, so both tables are rebuilt (lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"). sqlx runs this in a transaction, where
-- foreign keys cannot be turned off: a DROP TABLE of a parent deletes its rows first, which
-- would cascade into `attempts`. So no parent is dropped while a child still refers to it:
-- the old tables are renamed (the rename carries attempts' reference along to deliveries_old),
-- copied into the new ones, and dropped child first.
ALTER TABLE attempts RENAME TO attempts_old;
ALTER TABLE deliveries RENAME TO deliveries_old;

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    run_id          TEXT NOT NULL,
    recipe_id       TEXT NOT NULL,
    recipe_version  INTEGER,
    action_index    INTEGER NOT NULL,
    action_name     TEXT NOT NULL,
    action          TEXT,
    output          TEXT,
    status          TEXT NOT NULL,
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO deliveries (id, event_id, run_id, recipe_id, recipe_version, action_index,
                        action_name, action, output, status, attempt_count, next_attempt_at,
                        lease_owner, lease_until, last_error, created_at, updated_at)
SELECT id, event_id, run_id, recipe_id, NULL, action_index,
       action_name, action, output, status, attempt_count, next_attempt_at,
       lease_owner, lease_until, last_error, created_at, updated_at
FROM deliveries_old;

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
INSERT INTO attempts (id, delivery_id, attempt_no, started_at, duration_ms, status_code,
                      response_snippet, error)
SELECT id, delivery_id, attempt_no, started_at, duration_ms, status_code, response_snippet, error
FROM attempts_old;
-- AUTOINCREMENT never reuses an id: carry the old high-water mark over (the copy only set the
-- new one to the largest id still present).
DELETE FROM sqlite_sequence WHERE name = 'attempts';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'attempts', seq FROM sqlite_sequence WHERE name = 'attempts_old';

DROP TABLE attempts_old;
DROP TABLE deliveries_old;

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_recipe_status ON deliveries (recipe_id, status, updated_at);
CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt_no);

-- A recipe deleted and created again used to start over at version 1 while recipe_versions
-- kept the deleted recipe's source under that number. Deliveries now read their action from
-- recipe_versions, so each live recipe's current version holds its current source.
UPDATE recipe_versions SET source = (
    SELECT r.source FROM recipes r
    WHERE r.id = recipe_versions.recipe_id AND r.version = recipe_versions.version)
WHERE EXISTS (
    SELECT 1 FROM recipes r
    WHERE r.id = recipe_versions.recipe_id AND r.version = recipe_versions.version
      AND r.source <> recipe_versions.source);

-- Bumped by every change to `secrets`, in the same transaction. A delivery claim reads it, so
-- a worker's cache of secret values knows when to drop them, whichever process changed one.
CREATE TABLE secret_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO secret_generation (id, generation) VALUES (1, 0);
