-- Two documents of a collection may hold the same content (the same file
-- in two folders): documents are identified by `document_id`; the content
-- hash only tells whether a document changed, so it is indexed, not unique.
-- SQLite cannot drop a table constraint, so both tables are rebuilt; chunks
-- is dropped first, so dropping documents cascades to nothing.
CREATE TABLE documents_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    document_id TEXT NOT NULL,
    source TEXT,
    title TEXT,
    content_hash TEXT NOT NULL,
    chunk_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (collection, document_id)
);
CREATE TABLE chunks_new (
    document BIGINT NOT NULL REFERENCES documents_new (id) ON DELETE CASCADE,
    chunk_index BIGINT NOT NULL,
    point_id TEXT NOT NULL,
    PRIMARY KEY (document, chunk_index)
);
INSERT INTO documents_new SELECT id, collection, document_id, source, title, content_hash,
    chunk_count, created_at, updated_at FROM documents;
INSERT INTO chunks_new SELECT document, chunk_index, point_id FROM chunks;
DROP TABLE chunks;
DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;
ALTER TABLE chunks_new RENAME TO chunks;
CREATE INDEX documents_by_hash ON documents (collection, content_hash);
