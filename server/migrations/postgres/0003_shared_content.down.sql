-- Restores the unique (collection, content_hash) key (fails if two
-- documents now share content: remove one first).
DROP INDEX documents_by_hash;
ALTER TABLE documents ADD CONSTRAINT documents_collection_content_hash_key UNIQUE (collection, content_hash);
