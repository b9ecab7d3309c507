DROP TABLE audit_log;
DROP TABLE backups;
DROP TABLE ingestion_runs;
DROP TABLE chunks;
DROP TABLE documents;
DROP TABLE collections;
