-- A tick is complete once its events are stored (same transaction). A claim that never
-- completed (the process died mid-poll) is taken over after a while and counts as missed.
ALTER TABLE schedule_ticks ADD COLUMN completed_at INTEGER;
UPDATE schedule_ticks SET completed_at = claimed_at;
