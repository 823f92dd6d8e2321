"""duckdb + vss smoke: a .duckdb file, the vss extension loaded offline by file path from the
duckdb-extension-vss package, an HNSW index (experimental persistence on, as the docs require for
a file database), a nearest-neighbour query, reopen."""
import glob
import os

import _smoke as s


def body(d, args):
    s.stage("import")
    import duckdb
    import duckdb_extension_vss

    s.set_version(duckdb.__version__)
    ext = glob.glob(os.path.join(os.path.dirname(duckdb_extension_vss.__file__), "extensions", "*", "vss.duckdb_extension"))
    assert ext, "vss.duckdb_extension not found in duckdb-extension-vss"
    path = os.path.join(d, "vss.duckdb")
    s.stage("create")
    con = duckdb.connect(path)
    con.execute(f"LOAD '{ext[0]}'")
    con.execute("SET hnsw_enable_experimental_persistence = true")
    con.execute(f"CREATE TABLE IF NOT EXISTS items (id INTEGER, v FLOAT[{s.DIM}])")
    s.stage("insert")
    con.executemany("INSERT INTO items VALUES (?, ?)", [(i, v) for i, v in enumerate(s.vectors())])
    con.execute("CREATE INDEX IF NOT EXISTS idx ON items USING HNSW (v)")
    con.execute("CHECKPOINT")
    s.hold_here(args)
    s.stage("search")
    q = s.vectors()[3]
    r = con.execute(f"SELECT id FROM items ORDER BY array_distance(v, {q}::FLOAT[{s.DIM}]) LIMIT 3").fetchall()
    assert r and r[0][0] == 3, r
    s.stage("close")
    con.close()
    s.stage("reopen")
    con = duckdb.connect(path)
    con.execute(f"LOAD '{ext[0]}'")
    s.stage("read-back")
    n = con.execute("SELECT count(*) FROM items").fetchone()[0]
    assert n >= s.COUNT, n
    con.close()


s.main("duckdb-vss", body)
