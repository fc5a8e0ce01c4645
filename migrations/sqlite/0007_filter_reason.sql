-- Why a filtered run was filtered, in the user's terms ("data.object.amount = 500 is not
-- greater than 1000"); NULL for runs that were not filtered.
ALTER TABLE runs ADD COLUMN filter_reason TEXT;
