-- After a URL rotation the old token may keep working for a grace period.
ALTER TABLE recipes ADD COLUMN previous_token TEXT;
ALTER TABLE recipes ADD COLUMN previous_token_until BIGINT;
CREATE INDEX recipes_previous_token ON recipes (previous_token);
