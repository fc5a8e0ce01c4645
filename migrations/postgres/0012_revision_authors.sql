-- Recipe revisions (issue 12, item 5): each row of recipe_versions is a revision, with who or
-- which file made it ("user NAME", "token NAME", "file PATH"). `created_at` is already there.
-- Rows written before this migration have no author (NULL: unknown).
ALTER TABLE recipe_versions ADD COLUMN author TEXT;
