-- A tick runs only after its row is inserted: the primary key makes it once per cluster.
CREATE TABLE schedule_ticks (
    recipe_id     TEXT NOT NULL,
    scheduled_for INTEGER NOT NULL,
    claimed_by    TEXT NOT NULL,
    claimed_at    INTEGER NOT NULL,
    -- Ticks missed while no server ran, skipped in favour of this one (catch-up runs only the latest).
    skipped       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (recipe_id, scheduled_for)
);
