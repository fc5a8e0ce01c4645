-- A tick claim holds until `lease_until` (ms) and is renewed while its poll runs; one that ran
-- out without completing belongs to a dead process and is taken over. Claims written before
-- leases keep the old rule (taken over two minutes after the claim).
ALTER TABLE schedule_ticks ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
UPDATE schedule_ticks SET lease_until = claimed_at + 120000;
