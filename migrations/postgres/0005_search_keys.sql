-- The pinyin of a committee's name and of its organizing unit's name (syllables run together,
-- then their first letters), for search by pinyin. Filled by the server from the names: at
-- write time, and at start-up for rows written before this column existed.
ALTER TABLE committees ADD COLUMN name_pinyin TEXT NOT NULL DEFAULT '';
