-- Pause that holds (issue 11, item 8); see migrations/sqlite/0013_pause.sql.
ALTER TABLE recipes ADD COLUMN paused_at BIGINT;
-- The delivery claim passes over paused recipes (`NOT IN` this set): read from a covering
-- index of the few paused ones, never from the recipe rows and their sources.
CREATE INDEX recipes_paused ON recipes (id) WHERE paused_at IS NOT NULL;

ALTER TABLE event_jobs ADD COLUMN held_at BIGINT;
DROP INDEX event_jobs_due;
CREATE INDEX event_jobs_due ON event_jobs (run_after) WHERE held_at IS NULL;
CREATE INDEX event_jobs_held ON event_jobs (held_at) WHERE held_at IS NOT NULL;

ALTER TABLE delivery_queue ADD COLUMN held_at BIGINT;
DROP INDEX delivery_queue_due;
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at) WHERE held_at IS NULL;
CREATE INDEX delivery_queue_held ON delivery_queue (recipe_id) WHERE held_at IS NOT NULL;

ALTER TABLE schedule_ticks ADD COLUMN skip_reason TEXT;
