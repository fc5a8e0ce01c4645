-- Per-destination throttling and ordering (issue 11, item 4); see
-- migrations/sqlite/0014_throttle.sql.
ALTER TABLE deliveries ADD COLUMN throttle_key TEXT;
ALTER TABLE deliveries ADD COLUMN throttle_every_ms BIGINT;
ALTER TABLE deliveries ADD COLUMN throttle_concurrency BIGINT;

ALTER TABLE delivery_queue ADD COLUMN throttle_key TEXT;
ALTER TABLE delivery_queue ADD COLUMN throttle_every_ms BIGINT;
ALTER TABLE delivery_queue ADD COLUMN throttle_concurrency BIGINT;
ALTER TABLE delivery_queue ADD COLUMN throttle_seq BIGINT;

DROP INDEX delivery_queue_due;
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at)
    WHERE held_at IS NULL AND throttle_key IS NULL;
CREATE INDEX delivery_queue_throttled ON delivery_queue (throttle_key, throttle_seq)
    WHERE throttle_key IS NOT NULL;

CREATE TABLE throttle_keys (
    key          TEXT PRIMARY KEY,
    next_at      BIGINT NOT NULL DEFAULT 0,
    paused_until BIGINT,
    touched_at   BIGINT NOT NULL DEFAULT 0,
    checked_at   BIGINT NOT NULL DEFAULT 0
);
-- Claims visit keys least recently checked first, so keys that cannot move (a call in flight,
-- a first delivery waiting for its retry) never crowd out the others.
CREATE INDEX throttle_keys_checked ON throttle_keys (checked_at);

-- The inbound webhook rate limit, shared by every process (`store/ledger/hook_buckets.rs`):
-- one token bucket per recipe, on the database's clock (ms).
CREATE TABLE hook_buckets (
    recipe_id  TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_ms DOUBLE PRECISION NOT NULL,
    admitted   BOOLEAN NOT NULL
);
