-- Restores the unique (collection, content_hash) key (fails if two
-- documents now share content: remove one first).
CREATE TABLE documents_old (
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
CREATE TABLE chunks_old (
    document BIGINT NOT NULL REFERENCES documents_old (id) ON DELETE CASCADE,
    chunk_index BIGINT NOT NULL,
    point_id TEXT NOT NULL,
    PRIMARY KEY (document, chunk_index)
);
INSERT INTO documents_old SELECT id, collection, document_id, source, title, content_hash,
    chunk_count, created_at, updated_at FROM documents;
INSERT INTO chunks_old SELECT document, chunk_index, point_id FROM chunks;
DROP TABLE chunks;
DROP TABLE documents;
ALTER TABLE documents_old RENAME TO documents;
ALTER TABLE chunks_old RENAME TO chunks;
