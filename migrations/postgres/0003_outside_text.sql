-- Text from outside (errors, response snippets, dedupe keys, sender delivery ids, refusal
-- reasons, content types) is kept as its exact UTF-8 bytes: TEXT refuses U+0000 (a receiver
-- answering `ok\0done`, a dedupe key with a NUL), BYTEA holds it. SQLite keeps the same strings
-- in TEXT; both read back identical (src/store/rows.rs, `Text`).
ALTER TABLE events
    ALTER COLUMN error TYPE BYTEA USING convert_to(error, 'UTF8'),
    ALTER COLUMN content_type TYPE BYTEA USING convert_to(content_type, 'UTF8');
ALTER TABLE runs
    ALTER COLUMN dedupe_key TYPE BYTEA USING convert_to(dedupe_key, 'UTF8'),
    ALTER COLUMN error TYPE BYTEA USING convert_to(error, 'UTF8');
ALTER TABLE deliveries
    ALTER COLUMN last_error TYPE BYTEA USING convert_to(last_error, 'UTF8');
ALTER TABLE attempts
    ALTER COLUMN response_snippet TYPE BYTEA USING convert_to(response_snippet, 'UTF8'),
    ALTER COLUMN error TYPE BYTEA USING convert_to(error, 'UTF8');
ALTER TABLE webhook_refusals
    ALTER COLUMN last_reason TYPE BYTEA USING convert_to(last_reason, 'UTF8');

-- Keys of any length: a B-tree entry holds at most ~2.7 kB, so uniqueness is on the key's
-- SHA-256 (SQLite has no such limit). Lookups compare the hash (indexed) and the key itself.
ALTER TABLE dedupe_keys DROP CONSTRAINT dedupe_keys_pkey;
ALTER TABLE dedupe_keys ALTER COLUMN key TYPE BYTEA USING convert_to(key, 'UTF8');
CREATE UNIQUE INDEX dedupe_keys_recipe_key ON dedupe_keys (recipe_id, sha256(key));
ALTER TABLE sender_deliveries DROP CONSTRAINT sender_deliveries_pkey;
ALTER TABLE sender_deliveries
    ALTER COLUMN delivery_id TYPE BYTEA USING convert_to(delivery_id, 'UTF8');
CREATE UNIQUE INDEX sender_deliveries_recipe_delivery
    ON sender_deliveries (recipe_id, sha256(delivery_id));
