"""qdrant-edge smoke: an EdgeShard created in the data dir (default config), upsert, query, reopen."""
import os

import _smoke as s


def body(d, args):
    s.stage("import")
    import importlib.metadata as md

    import qdrant_edge as q

    s.set_version(md.version("qdrant-edge-py"))
    path = os.path.join(d, "qdrant_edge_shard")
    s.stage("create")
    os.makedirs(path, exist_ok=True)
    cfg = q.EdgeConfig(vectors=q.EdgeVectorParams(size=s.DIM, distance=q.Distance.Cosine))
    # As an application does: load the shard when the path already holds one, else create it.
    if os.listdir(path):
        shard = q.EdgeShard.load(path)
    else:
        shard = q.EdgeShard.create(path, cfg)
    s.stage("insert")
    pts = [q.Point(id=i + 1, vector=v) for i, v in enumerate(s.vectors())]
    shard.update(q.UpdateOperation.upsert_points(pts))
    shard.flush()
    s.hold_here(args)
    s.stage("search")
    res = shard.query(q.QueryRequest(limit=3, query=q.Query.Nearest(s.vectors()[3])))
    assert res, res
    s.stage("close")
    shard.close()
    s.stage("reopen")
    shard = q.EdgeShard.load(path)
    s.stage("read-back")
    n = shard.count(q.CountRequest(exact=True))
    assert n >= s.COUNT, n
    shard.close()


s.main("qdrant-edge", body)
