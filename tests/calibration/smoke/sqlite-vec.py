"""sqlite-vec smoke: vec0 table in a SQLite file, default (rollback) journal."""
import os
import sqlite3
import struct

import _smoke as s


def body(d, args):
    s.stage("import")
    import sqlite_vec

    s.set_version(getattr(sqlite_vec, "__version__", None))
    path = os.path.join(d, "vec.sqlite")
    s.stage("create")
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.enable_load_extension(False)
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS items USING vec0(embedding float[{s.DIM}])")
    s.stage("insert")
    base = s.id_base()
    with db:
        for i, v in enumerate(s.vectors()):
            db.execute("INSERT INTO items(rowid, embedding) VALUES (?, ?)", (base + i + 1, struct.pack(f"{s.DIM}f", *v)))
    s.hold_here(args)
    s.stage("search")
    q = struct.pack(f"{s.DIM}f", *s.vectors()[3])
    rows = db.execute("SELECT rowid FROM items WHERE embedding MATCH ? AND k = 3 ORDER BY distance", (q,)).fetchall()
    assert rows, rows
    s.stage("close")
    db.close()
    s.stage("reopen")
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    s.stage("read-back")
    n = db.execute("SELECT count(*) FROM items").fetchone()[0]
    assert n >= s.COUNT, n
    db.close()


s.main("sqlite-vec", body)
