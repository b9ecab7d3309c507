-- Cairn's metadata catalog (SQLite). Times are Unix milliseconds.
CREATE TABLE collections (
    name TEXT PRIMARY KEY,
    dim BIGINT NOT NULL,
    distance TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    document_id TEXT NOT NULL,
    source TEXT,
    title TEXT,
    content_hash TEXT NOT NULL,
    chunk_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (collection, content_hash),
    UNIQUE (collection, document_id)
);
CREATE TABLE chunks (
    document BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    chunk_index BIGINT NOT NULL,
    point_id TEXT NOT NULL,
    PRIMARY KEY (document, chunk_index)
);
CREATE TABLE ingestion_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    status TEXT NOT NULL,
    added BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
CREATE TABLE backups (
    id TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    collections TEXT NOT NULL,
    size BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT,
    status TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    verified_at BIGINT,
    error TEXT
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    collection TEXT,
    detail TEXT
);
