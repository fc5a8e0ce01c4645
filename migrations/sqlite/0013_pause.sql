-- Pause that holds (issue 11, item 8). A paused recipe accepts and stores events but runs
-- nothing until it is resumed. `paused_at` is operator state, never written by an import:
-- re-provisioning a recipe from its file leaves it paused.
ALTER TABLE recipes ADD COLUMN paused_at INTEGER;
-- The delivery claim passes over paused recipes (`NOT IN` this set): read from a covering
-- index of the few paused ones, never from the recipe rows and their sources.
CREATE INDEX recipes_paused ON recipes (id) WHERE paused_at IS NOT NULL;

-- A held job or delivery keeps its place (`run_after`, `next_attempt_at`), so a resume releases
-- them in their original order. The due indexes leave held rows out: a claim walks only work it
-- may take, however many events a paused recipe holds.
ALTER TABLE event_jobs ADD COLUMN held_at INTEGER;
DROP INDEX event_jobs_due;
CREATE INDEX event_jobs_due ON event_jobs (run_after) WHERE held_at IS NULL;
CREATE INDEX event_jobs_held ON event_jobs (held_at) WHERE held_at IS NOT NULL;

ALTER TABLE delivery_queue ADD COLUMN held_at INTEGER;
DROP INDEX delivery_queue_due;
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at) WHERE held_at IS NULL;
CREATE INDEX delivery_queue_held ON delivery_queue (recipe_id) WHERE held_at IS NOT NULL;

-- Why a tick ran nothing: 'paused' (the recipe was paused at its instant). NULL: it ran.
ALTER TABLE schedule_ticks ADD COLUMN skip_reason TEXT;
