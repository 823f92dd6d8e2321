"""`chroma run --path <data dir>` (default port 8000) + chromadb.HttpClient() with its defaults
(localhost:8000), add, query, restart the server, read back. Telemetry off (loopback only)."""
import os
import sys

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import _server  # noqa: E402
import _smoke as s  # noqa: E402


def body(d, args):
    s.stage("import")
    import chromadb

    s.set_version(chromadb.__version__)
    path = os.path.join(d, "chroma_server")
    chroma = os.path.join(os.path.dirname(sys.executable), "chroma")
    s.stage("server-start")
    srv = _server.start([chroma, "run", "--path", path], "chroma")
    try:
        client = {}

        def ready():
            client["c"] = chromadb.HttpClient()
            return client["c"].heartbeat()

        _server.wait_ready(srv, ready, args.deadline * 0.4)
        c = client["c"]
        s.stage("create")
        col = c.get_or_create_collection("smoke")
        s.stage("insert")
        col.add(ids=[str(i) for i in range(s.COUNT)], embeddings=s.vectors())
        s.hold_here(args)
        s.stage("search")
        r = col.query(query_embeddings=[s.vectors()[3]], n_results=3)
        assert r["ids"][0], r
        s.stage("close")
        _server.stop(srv)
        s.stage("reopen")
        srv = _server.start([chroma, "run", "--path", path], "chroma")
        _server.wait_ready(srv, ready, args.deadline * 0.4)
        s.stage("read-back")
        n = client["c"].get_collection("smoke").count()
        assert n >= s.COUNT, n
    finally:
        _server.stop(srv)


s.main("chroma-server", body)
