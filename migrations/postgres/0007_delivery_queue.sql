-- The hot queue holds only pending work (issue 10): a row per delivery that is still to be
-- attempted, with when it is due and who holds its lease. A delivery that is delivered or dead
-- leaves the queue in the transaction that records its last attempt; `deliveries` keeps the
-- record (status, attempt count, last error). Claims, lease renewals and releases touch only
-- this narrow table: a lease change rewrites a small row and, as no index names the lease
-- columns, stays a heap-only (HOT) update, for which the fill factor leaves room in each page.
CREATE TABLE delivery_queue (
    delivery_id     TEXT PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    recipe_id       TEXT NOT NULL,
    action_name     TEXT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT
) WITH (fillfactor = 70);
INSERT INTO delivery_queue (delivery_id, recipe_id, action_name, next_attempt_at, lease_owner,
                            lease_until)
SELECT id, recipe_id, action_name, COALESCE(next_attempt_at, 0), lease_owner, lease_until
FROM deliveries WHERE status = 'pending';
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at);

DROP INDEX deliveries_due;
ALTER TABLE deliveries
    DROP COLUMN next_attempt_at,
    DROP COLUMN lease_owner,
    DROP COLUMN lease_until;
