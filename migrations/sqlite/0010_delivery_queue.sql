-- The hot queue holds only pending work (issue 10): a row per delivery that is still to be
-- attempted, with when it is due and who holds its lease. A delivery that is delivered or dead
-- leaves the queue in the transaction that records its last attempt; `deliveries` keeps the
-- record (status, attempt count, last error). Claims, lease renewals and releases touch only
-- this narrow table, never the record.
CREATE TABLE delivery_queue (
    delivery_id     TEXT PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    recipe_id       TEXT NOT NULL,
    action_name     TEXT NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER
);
INSERT INTO delivery_queue (delivery_id, recipe_id, action_name, next_attempt_at, lease_owner,
                            lease_until)
SELECT id, recipe_id, action_name, COALESCE(next_attempt_at, 0), lease_owner, lease_until
FROM deliveries WHERE status = 'pending';
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at);

-- The record no longer carries the queue's columns (SQLite 3.35 drops a column in place once
-- no index names it).
DROP INDEX deliveries_due;
ALTER TABLE deliveries DROP COLUMN next_attempt_at;
ALTER TABLE deliveries DROP COLUMN lease_owner;
ALTER TABLE deliveries DROP COLUMN lease_until;
