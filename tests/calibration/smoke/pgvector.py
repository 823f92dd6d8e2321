"""PostgreSQL 15 from Debian: initdb in <data dir>/pg, start on the default port 5432 (default
listen_addresses=localhost), connect with psycopg over TCP, insert, nearest neighbour, restart,
read back. Debian 12 has no postgresql-15-pgvector package: when `CREATE EXTENSION vector` is not
available, plain PostgreSQL stands in (float4[] column, distance computed in SQL) and the version
says so. As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root)."""
import glob
import os
import shutil

import _server
import _smoke as s


def _pgbin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def body(d, args):
    s.stage("import")
    import subprocess

    import psycopg

    initdb, postgres = _pgbin("initdb"), _pgbin("postgres")
    if not initdb:
        raise FileNotFoundError("PostgreSQL not installed")
    user = "postgres" if os.geteuid() == 0 else None
    path = os.path.join(d, "pg")
    s.stage("create")
    os.makedirs(path, exist_ok=True)
    if user:
        shutil.chown(path, user, user)
        os.chmod(path, 0o700)
    pre = ["runuser", "-u", user, "--"] if user else []
    if not os.path.exists(os.path.join(path, "PG_VERSION")):
        r = subprocess.run(pre + [initdb, "-D", path, "-U", "postgres", "-A", "trust"], capture_output=True, text=True, timeout=args.deadline)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed ({r.returncode}): {(r.stderr or r.stdout)[-400:]}")
    s.stage("server-start")
    argv = [postgres, "-D", path]
    srv = _server.start(argv, "postgres", user)
    dsn = "host=localhost port=5432 user=postgres dbname=postgres"
    try:
        _server.wait_ready(srv, lambda: psycopg.connect(dsn).close() or True, args.deadline * 0.4)
        con = psycopg.connect(dsn, autocommit=True)
        try:
            con.execute("CREATE EXTENSION IF NOT EXISTS vector")
            kind = "pgvector"
        except psycopg.Error:
            kind = "plain PostgreSQL standing in (no pgvector)"
        ver = con.execute("SHOW server_version").fetchone()[0]
        s.set_version(f"PostgreSQL {ver}, {kind}")
        s.stage("insert")
        con.execute("CREATE TABLE IF NOT EXISTS items (id int, v float4[])")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO items VALUES (%s, %s)", list(enumerate(s.vectors())))
        s.hold_here(args)
        s.stage("search")
        q = s.vectors()[3]
        row = con.execute(
            "SELECT id FROM items ORDER BY (SELECT sum((a-b)*(a-b)) FROM unnest(v, %s::float4[]) AS t(a,b)) LIMIT 1", (q,)
        ).fetchone()
        assert row[0] == 3, row
        s.stage("close")
        con.close()
        _server.stop(srv, 2)
        s.stage("reopen")
        srv = _server.start(argv, "postgres", user)
        _server.wait_ready(srv, lambda: psycopg.connect(dsn).close() or True, args.deadline * 0.4)
        s.stage("read-back")
        con = psycopg.connect(dsn)
        n = con.execute("SELECT count(*) FROM items").fetchone()[0]
        assert n >= s.COUNT, n
        con.close()
    finally:
        _server.stop(srv, 2)


s.main("pgvector", body)
