"""milvus-lite smoke: MilvusClient("<data dir>/milvus_smoke.db") (3.x: a directory store with a
LOCK file, an in-process gRPC server on 127.0.0.1:<ephemeral>), create, insert, search, reopen."""
import os

import _smoke as s


def body(d, args):
    s.stage("import")
    import importlib.metadata as md

    from pymilvus import MilvusClient

    s.set_version(f"milvus-lite {md.version('milvus-lite')} / pymilvus {md.version('pymilvus')}")
    path = os.path.join(d, "milvus_smoke.db")
    s.stage("create")
    c = MilvusClient(path)
    if not c.has_collection("smoke"):
        c.create_collection("smoke", dimension=s.DIM)
    s.stage("insert")
    c.insert("smoke", [{"id": s.id_base() + i, "vector": v} for i, v in enumerate(s.vectors())])
    s.hold_here(args)
    s.stage("search")
    r = c.search("smoke", data=[s.vectors()[3]], limit=3)
    assert r and r[0], r
    s.stage("close")
    c.close()
    s.stage("reopen")
    c = MilvusClient(path)
    s.stage("read-back")
    n = c.query("smoke", filter="", output_fields=["count(*)"])[0]["count(*)"]
    assert n >= s.COUNT, n
    c.close()


s.main("milvus-lite", body)
