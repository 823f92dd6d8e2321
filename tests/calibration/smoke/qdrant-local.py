"""qdrant-client local mode smoke: QdrantClient(path=data dir), create, upsert, query, reopen."""
import os

import _smoke as s


def body(d, args):
    s.stage("import")
    import qdrant_client
    from qdrant_client import QdrantClient, models

    s.set_version(getattr(qdrant_client, "__version__", None) or __import__("importlib.metadata").metadata.version("qdrant-client"))
    path = os.path.join(d, "qdrant_local")
    s.stage("create")
    c = QdrantClient(path=path)
    if not c.collection_exists("smoke"):
        c.create_collection("smoke", vectors_config=models.VectorParams(size=s.DIM, distance=models.Distance.COSINE))
    s.stage("insert")
    c.upsert("smoke", points=[models.PointStruct(id=i + 1, vector=v) for i, v in enumerate(s.vectors())])
    s.hold_here(args)
    s.stage("search")
    res = c.query_points("smoke", query=s.vectors()[3], limit=3).points
    assert res, res
    s.stage("close")
    c.close()
    s.stage("reopen")
    c = QdrantClient(path=path)
    s.stage("read-back")
    n = c.count("smoke", exact=True).count
    assert n >= s.COUNT, n
    c.close()


s.main("qdrant-local", body)
