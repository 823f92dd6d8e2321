"""chromadb smoke: PersistentClient(path=data dir), add with embeddings, query, reopen.

Telemetry is switched off (ANONYMIZED_TELEMETRY=False): the calibration sends no traffic beyond
loopback. Everything else is the library default.
"""
import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import _smoke as s  # noqa: E402


def body(d, args):
    s.stage("import")
    import chromadb

    s.set_version(chromadb.__version__)
    path = os.path.join(d, "chroma")
    s.stage("create")
    c = chromadb.PersistentClient(path=path)
    col = c.get_or_create_collection("smoke")
    s.stage("insert")
    col.add(ids=[str(i) for i in range(s.COUNT)], embeddings=s.vectors())
    s.hold_here(args)
    s.stage("search")
    r = col.query(query_embeddings=[s.vectors()[3]], n_results=3)
    assert r["ids"][0], r
    s.stage("close")
    from chromadb.api.client import SharedSystemClient

    del col, c
    SharedSystemClient.clear_system_cache()
    s.stage("reopen")
    c = chromadb.PersistentClient(path=path)
    s.stage("read-back")
    n = c.get_collection("smoke").count()
    assert n >= s.COUNT, n


s.main("chroma", body)
