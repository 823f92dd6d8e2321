"""usearch smoke: HNSW index saved to the data dir, restored with Index.restore (default: load)."""
import os

import _smoke as s


def body(d, args):
    s.stage("import")
    import numpy as np
    import usearch
    from usearch.index import Index

    s.set_version(usearch.VERSION if hasattr(usearch, "VERSION") else getattr(usearch, "__version__", None))
    path = os.path.join(d, "index.usearch")
    s.stage("create")
    index = Index(ndim=s.DIM)
    s.stage("insert")
    xs = np.array(s.vectors(), dtype="float32")
    index.add(np.arange(s.COUNT), xs)
    index.save(path)
    s.hold_here(args)
    s.stage("search")
    m = index.search(xs[3], 3)
    assert int(m.keys[0]) == 3, m.keys
    s.stage("close")
    del index
    s.stage("reopen")
    index = Index.restore(path)
    s.stage("read-back")
    assert index is not None and len(index) == s.COUNT, index


s.main("usearch", body)
