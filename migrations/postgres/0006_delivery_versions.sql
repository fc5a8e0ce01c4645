-- A delivery names the recipe version its run used (recipe_versions keeps every source) and the
-- action's index in it; the claim reads the run's output from `runs`. New deliveries store no
-- copy of either; rows written before this migration keep their copies (recipe_version NULL)
-- and are delivered from them.
ALTER TABLE deliveries
    ADD COLUMN recipe_version BIGINT,
    ALTER COLUMN action DROP NOT NULL,
    ALTER COLUMN output DROP NOT NULL;

-- A recipe deleted and created again used to start over at version 1 while recipe_versions
-- kept the deleted recipe's source under that number. Deliveries now read their action from
-- recipe_versions, so each live recipe's current version holds its current source.
UPDATE recipe_versions v SET source = r.source
FROM recipes r
WHERE r.id = v.recipe_id AND r.version = v.version AND r.source <> v.source;

-- Bumped by every change to `secrets`, in the same transaction. A delivery claim reads it, so
-- a worker's cache of secret values knows when to drop them, whichever node changed one.
CREATE TABLE secret_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO secret_generation (id, generation) VALUES (1, 0);
