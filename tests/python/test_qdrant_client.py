"""The official qdrant-client, unchanged but for the URL, against `cairn serve`.

Starts the `cairn` binary (CAIRN_BIN, default target/debug/cairn) on a free
loopback port with a fresh data directory, then drives it as an application
would: a 768-d cosine collection, upserts in both point forms, retrieve,
queries with and without a filter (recall checked against numpy brute force),
scroll to exhaustion, count, payload writes, deletes by ids and by filter, an
error case, and dropping the collection.
"""
import numpy as np
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import cairn_server

DIM, N = 768, 2000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with cairn_server(tmp_path_factory.mktemp("cairn-data")) as url:
        yield url


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(20, DIM)).astype(np.float32)
    vecs = centres[rng.integers(0, 20, N)] + 0.3 * rng.normal(size=(N, DIM)).astype(np.float32)
    return vecs.astype(np.float32)


def brute_force(vecs, q, k, allowed=None):
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    scores = unit @ (q / np.linalg.norm(q))
    ids = np.arange(len(vecs)) if allowed is None else np.array(sorted(allowed))
    order = ids[np.argsort(-scores[ids], kind="stable")]
    return [int(i) for i in order[:k]]


def test_the_official_client_works_unchanged(server, data):
    client = QdrantClient(url=server, prefer_grpc=False, check_compatibility=False, timeout=60)
    name = "docs"
    client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
    assert client.collection_exists(name)
    info = client.get_collection(name)
    assert info.config.params.vectors.size == DIM

    payload = lambda i: {"group": i % 10, "lang": "en" if i % 3 else "fr", "i": i}  # noqa: E731
    half = N // 2
    client.upsert(name, points=[models.PointStruct(id=i, vector=data[i].tolist(), payload=payload(i)) for i in range(half)], wait=True)
    client.upsert(
        name,
        points=models.Batch(
            ids=list(range(half, N)),
            vectors=data[half:].tolist(),
            payloads=[payload(i) for i in range(half, N)],
        ),
        wait=True,
    )
    assert client.count(name, exact=True).count == N

    got = client.retrieve(name, ids=[5, 1500, 99999], with_vectors=True)
    assert sorted(p.id for p in got) == [5, 1500]
    assert got[0].payload["i"] in (5, 1500)
    assert len(got[0].vector) == DIM

    # Unfiltered and filtered queries, recall against numpy.
    rng = np.random.default_rng(11)
    group3 = models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=3))])
    allowed = [i for i in range(N) if i % 10 == 3]
    plain, filtered = [], []
    for _ in range(20):
        q = data[rng.integers(0, N)] + 0.1 * rng.normal(size=DIM).astype(np.float32)
        hits = client.query_points(name, query=q.tolist(), limit=10).points
        plain.append(len(set(h.id for h in hits) & set(brute_force(data, q, 10))) / 10)
        hits = client.query_points(name, query=q.tolist(), query_filter=group3, limit=10, with_payload=True).points
        assert all(h.payload["group"] == 3 for h in hits)
        filtered.append(len(set(h.id for h in hits) & set(brute_force(data, q, 10, allowed))) / 10)
    assert np.mean(plain) >= 0.95, np.mean(plain)
    assert np.mean(filtered) >= 0.95, np.mean(filtered)

    # Query by point id: its nearest others.
    assert client.query_points(name, query=7, limit=3).points[0].id != 7

    # Scroll to exhaustion.
    seen, offset = [], None
    while True:
        page, offset = client.scroll(name, limit=300, offset=offset, with_payload=False)
        seen += [p.id for p in page]
        if offset is None:
            break
    assert sorted(seen) == list(range(N))
    assert client.count(name, count_filter=group3, exact=True).count == N // 10

    # Payload writes.
    client.set_payload(name, payload={"tag": "x"}, points=[1, 2], wait=True)
    client.delete_payload(name, keys=["lang"], points=[1], wait=True)
    p1 = client.retrieve(name, ids=[1])[0].payload
    assert p1["tag"] == "x" and "lang" not in p1
    client.overwrite_payload(name, payload={"only": True}, points=[2], wait=True)
    assert client.retrieve(name, ids=[2])[0].payload == {"only": True}
    client.clear_payload(name, points_selector=models.PointIdsList(points=[2]), wait=True)
    assert client.retrieve(name, ids=[2])[0].payload == {}

    # Deletes by ids and by filter.
    client.delete(name, points_selector=models.PointIdsList(points=[0, 1, 2]), wait=True)
    client.delete(name, points_selector=models.FilterSelector(filter=group3), wait=True)
    assert client.count(name, exact=True).count == N - 3 - N // 10  # ids 0-2 are not in group 3

    # An error case: the wrong dimension is a 400 with a message.
    with pytest.raises(UnexpectedResponse) as err:
        client.upsert(name, points=[models.PointStruct(id=1, vector=[0.1, 0.2], payload={})], wait=True)
    assert err.value.status_code == 400
    assert "dimension" in str(err.value)

    client.delete_collection(name)
    assert not client.collection_exists(name)
