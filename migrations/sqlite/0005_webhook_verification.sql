-- A sender's retry carries the id of its first delivery (webhook-id, X-GitHub-Delivery, ...):
-- the primary key makes "same id again" one answer, checked in the event's own transaction.
CREATE TABLE sender_deliveries (
    recipe_id   TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (recipe_id, delivery_id)
);

-- Calls refused by a recipe's verify check: how many, and why the latest was (never a secret).
CREATE TABLE webhook_refusals (
    recipe_id   TEXT PRIMARY KEY,
    count       INTEGER NOT NULL,
    last_reason TEXT NOT NULL,
    last_at     INTEGER NOT NULL
);
