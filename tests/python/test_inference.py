"""qdrant-client's server-side inference shapes against `cairn serve`:
`models.Document` queries (dense, with the collection's all-MiniLM-L6-v2),
BM25 through `model="qdrant/bm25"` + `using="bm25"`, and hybrid retrieval
with `prefetch` + `FusionQuery(RRF)` — the client unchanged but for
`cloud_inference=True`, which makes it send documents to the server instead
of embedding them itself.

The collection is made, and documents added, through Cairn's own extension
(`"embedding": {"model": …}` and `POST /collections/{c}/documents`), which
the client has no call for."""
import json
import urllib.request

import pytest
from qdrant_client import QdrantClient, models

from conftest import cairn_server

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DOCS = {
    "bread": "To bake sourdough bread, feed the starter and bake the dough in a hot oven.",
    "rust": "Rust is a systems programming language whose ownership rules prevent data races.",
    "tides": "Ocean tides come from the gravitational pull of the Moon and the Sun.",
    "garden": "Tomatoes grow best in full sun with regular watering.",
}


def call(url, method, path, body):
    req = urllib.request.Request(
        url + path, method=method, data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["result"]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    with cairn_server(tmp_path_factory.mktemp("cairn-data")) as base:
        call(base, "PUT", "/collections/kb", {"embedding": {"model": MODEL}})
        docs = [{"id": k, "text": v, "title": k} for k, v in DOCS.items()]
        assert call(base, "POST", "/collections/kb/documents", {"documents": docs})["added"] == 4
        yield base


def top(points):
    return [p.payload["document_id"] for p in points]


def test_document_queries_are_embedded_by_the_server(url):
    client = QdrantClient(url=url, check_compatibility=False, cloud_inference=True)
    hits = client.query_points(
        "kb", query=models.Document(text="how do I make a loaf", model=MODEL),
        limit=1, with_payload=True,
    ).points
    assert top(hits) == ["bread"]
    # The model decided the collection's size.
    info = client.get_collection("kb")
    assert info.config.params.vectors.size == 384


def hybrid(client, dense_text, bm25_text, **kwargs):
    """Qdrant's hybrid shape: a dense and a BM25 prefetch, fused by RRF."""
    return client.query_points(
        "kb",
        prefetch=[
            models.Prefetch(query=models.Document(text=dense_text, model=MODEL), limit=4),
            models.Prefetch(query=models.Document(text=bm25_text, model="qdrant/bm25"), using="bm25", limit=4),
        ],
        query=models.FusionQuery(fusion=models.Fusion.RRF),
        with_payload=True,
        **kwargs,
    ).points


def test_bm25_and_hybrid_with_prefetch_and_rrf(url):
    client = QdrantClient(url=url, check_compatibility=False, cloud_inference=True)
    bm25 = client.query_points(
        "kb", query=models.Document(text="sourdough starter", model="qdrant/bm25"),
        using="bm25", with_payload=True,
    ).points
    assert top(bm25) == ["bread"]
    fused = hybrid(client, "memory safety in programming", "rust ownership", limit=2)
    assert top(fused)[0] == "rust"
    assert abs(fused[0].score - 2 / 61) < 1e-6  # rank 1 in both lists, k = 60
    # The request's filter reaches the prefetches.
    filtered = hybrid(
        client, "sunshine", "sun",
        query_filter=models.Filter(must=[models.FieldCondition(key="document_id", match=models.MatchValue(value="garden"))]),
    )
    assert top(filtered) == ["garden"]
