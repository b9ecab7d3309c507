ALTER TABLE backups DROP COLUMN trigger_kind;
