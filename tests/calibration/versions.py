"""Print the versions of every calibrated package (JSON), from the venv that runs the backends."""
import importlib.metadata as md
import json
import subprocess
import sys

PKGS = ["pymilvus", "milvus-lite", "qdrant-client", "qdrant-edge-py", "chromadb", "lancedb", "faiss-cpu",
        "sqlite-vec", "usearch", "duckdb", "duckdb-extension-vss", "numpy", "psycopg", "redis"]
out = {"python": sys.version.split()[0]}
for p in PKGS:
    try:
        out[p] = md.version(p)
    except md.PackageNotFoundError:
        out[p] = "not installed"
import sqlite3  # noqa: E402

out["sqlite (python)"] = sqlite3.sqlite_version
for name, argv in (("redis-server (apt)", ["redis-server", "--version"]),
                   ("postgresql (apt)", ["/usr/lib/postgresql/15/bin/postgres", "--version"])):
    try:
        out[name] = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        out[name] = "not installed"
out["pgvector"] = "not packaged for Debian 12 (no postgresql-15-pgvector): plain PostgreSQL stands in"
print(json.dumps(out, indent=1))
