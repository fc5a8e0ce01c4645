-- Per-destination throttling and ordering (issue 11, item 4). A delivery of an action with
-- `rate` or `concurrency` carries its key and limits, fixed when its run planned it (the
-- record keeps them for a chained or retried delivery that is queued later). NULL: the
-- delivery is not throttled and is claimed exactly as before.
ALTER TABLE deliveries ADD COLUMN throttle_key TEXT;
ALTER TABLE deliveries ADD COLUMN throttle_every_ms INTEGER;
ALTER TABLE deliveries ADD COLUMN throttle_concurrency INTEGER;

-- On the queue row too, with its place in the key's order (`throttle_seq`: when it was first
-- due, ms; ties by delivery id, time-ordered). A retry keeps its place.
ALTER TABLE delivery_queue ADD COLUMN throttle_key TEXT;
ALTER TABLE delivery_queue ADD COLUMN throttle_every_ms INTEGER;
ALTER TABLE delivery_queue ADD COLUMN throttle_concurrency INTEGER;
ALTER TABLE delivery_queue ADD COLUMN throttle_seq INTEGER;

-- The unthrottled claim walks only unthrottled rows; throttled ones are admitted per key.
DROP INDEX delivery_queue_due;
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at)
    WHERE held_at IS NULL AND throttle_key IS NULL;
CREATE INDEX delivery_queue_throttled ON delivery_queue (throttle_key, throttle_seq)
    WHERE throttle_key IS NOT NULL;

-- A key's state, shared by every process: the earliest start of its next call (GCRA's
-- theoretical arrival time, ms), until when a 429 paused it (ms), and when a delivery for it
-- was last queued (ms): housekeeping drops keys idle for an hour, never one touched since.
CREATE TABLE throttle_keys (
    key          TEXT PRIMARY KEY,
    next_at      INTEGER NOT NULL DEFAULT 0,
    paused_until INTEGER,
    touched_at   INTEGER NOT NULL DEFAULT 0,
    checked_at   INTEGER NOT NULL DEFAULT 0
);
-- Claims visit keys least recently checked first, so keys that cannot move (a call in flight,
-- a first delivery waiting for its retry) never crowd out the others.
CREATE INDEX throttle_keys_checked ON throttle_keys (checked_at);
