-- Which trigger started a backup: `cli`, `schedule` or `api`.
ALTER TABLE backups ADD COLUMN trigger_kind TEXT NOT NULL DEFAULT 'cli';
