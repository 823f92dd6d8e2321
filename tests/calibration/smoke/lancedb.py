"""lancedb smoke: lancedb.connect(data dir), create_table, vector search, reopen."""
import os

import _smoke as s


def body(d, args):
    s.stage("import")
    import lancedb

    s.set_version(lancedb.__version__)
    path = os.path.join(d, "lancedb")
    s.stage("create")
    db = lancedb.connect(path)
    s.stage("insert")
    t = db.create_table("smoke", data=[{"id": i, "vector": v} for i, v in enumerate(s.vectors())], mode="overwrite")
    s.hold_here(args)
    s.stage("search")
    r = t.search(s.vectors()[3]).limit(3).to_list()
    assert r and r[0]["id"] == 3, r
    s.stage("close")
    del t, db
    s.stage("reopen")
    db = lancedb.connect(path)
    s.stage("read-back")
    n = db.open_table("smoke").count_rows()
    assert n >= s.COUNT, n


s.main("lancedb", body)
