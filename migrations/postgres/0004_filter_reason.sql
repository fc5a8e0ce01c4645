-- Why a filtered run was filtered, in the user's terms ("data.object.amount = 500 is not
-- greater than 1000"); NULL for runs that were not filtered. It quotes payload text, so it is
-- kept as bytes like the other outside text (0003_outside_text.sql).
ALTER TABLE runs ADD COLUMN filter_reason BYTEA;
