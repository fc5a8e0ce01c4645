-- `split = "/items"` on a webhook: the request is stored as one event with status `split`
-- (no job: it runs nothing) and each element of its list as an event of its own that names
-- the request in `parent_id`, at its place in the list in `split_index` (from 0). No foreign
-- key: retention prunes the request and its elements independently, each once it is finished.
ALTER TABLE events ADD COLUMN parent_id TEXT;
ALTER TABLE events ADD COLUMN split_index INTEGER;
CREATE INDEX events_parent ON events (parent_id, split_index) WHERE parent_id IS NOT NULL;
