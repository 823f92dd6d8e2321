"""faiss-cpu smoke: flat index written to the data dir, read back with read_index (default flags)."""
import os

import _smoke as s


def body(d, args):
    s.stage("import")
    import faiss
    import numpy as np

    s.set_version(faiss.__version__)
    path = os.path.join(d, "flat.faissindex")
    s.stage("create")
    index = faiss.IndexFlatL2(s.DIM)
    s.stage("insert")
    xs = np.array(s.vectors(), dtype="float32")
    index.add(xs)
    faiss.write_index(index, path)
    s.hold_here(args)
    s.stage("search")
    _, ids = index.search(xs[3:4], 3)
    assert ids[0][0] == 3, ids
    s.stage("close")
    del index
    s.stage("reopen")
    index = faiss.read_index(path)
    s.stage("read-back")
    assert index.ntotal == s.COUNT, index.ntotal
    _, ids = index.search(xs[3:4], 1)
    assert ids[0][0] == 3, ids


s.main("faiss", body)
