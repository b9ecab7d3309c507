-- Two documents of a collection may hold the same content (the same file
-- in two folders): documents are identified by `document_id`; the content
-- hash only tells whether a document changed, so it is indexed, not unique.
ALTER TABLE documents DROP CONSTRAINT documents_collection_content_hash_key;
CREATE INDEX documents_by_hash ON documents (collection, content_hash);
