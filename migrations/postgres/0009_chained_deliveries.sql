-- Chained actions (issue 11): a delivery whose action runs `after` another names that action's
-- index in its run (`after_index`) and waits (status `waiting`, no queue row) until it is
-- delivered; then it is queued, due at the later of that moment and `not_before` (its delay).
-- A delivered action that others run after keeps its response (`response`, JSON text:
-- status, headers, body, truncated; outside text, so BYTEA as in 0003) for their templates.
ALTER TABLE deliveries
    ADD COLUMN after_index BIGINT,
    ADD COLUMN not_before BIGINT,
    ADD COLUMN response BYTEA;
CREATE INDEX deliveries_chained ON deliveries (run_id, after_index) WHERE after_index IS NOT NULL;
