"""redis-server from Debian (plain Redis 7 standing in for Redis Stack: Debian ships no
RediSearch module) on its default port 6379 with --dir <data dir>; vectors as hash fields, the
nearest neighbour found client-side; SHUTDOWN SAVE, restart, read back from the RDB."""
import os
import shutil
import struct

import _server
import _smoke as s


def body(d, args):
    s.stage("import")
    import redis

    exe = shutil.which("redis-server")
    if not exe:
        raise FileNotFoundError("redis-server not installed")
    import subprocess

    s.set_version(subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[2].removeprefix("v="))
    path = os.path.join(d, "redis")
    s.stage("server-start")
    os.makedirs(path, exist_ok=True)
    argv = [exe, "--dir", path]
    srv = _server.start(argv, "redis")
    try:
        r = redis.Redis()
        _server.wait_ready(srv, r.ping, args.deadline * 0.4)
        s.stage("insert")
        for i, v in enumerate(s.vectors()):
            r.hset(f"doc:{i}", mapping={"v": struct.pack(f"{s.DIM}f", *v)})
        s.hold_here(args)
        s.stage("search")
        q = s.vectors()[3]
        best = min(range(s.COUNT), key=lambda i: sum((a - b) ** 2 for a, b in zip(struct.unpack(f"{s.DIM}f", r.hget(f"doc:{i}", "v")), q)))
        assert best == 3, best
        s.stage("close")
        r.shutdown(save=True)
        srv.wait(20)
        s.stage("reopen")
        srv = _server.start(argv, "redis")
        r = redis.Redis()
        _server.wait_ready(srv, r.ping, args.deadline * 0.4)
        s.stage("read-back")
        n = len(r.keys("doc:*"))
        assert n >= s.COUNT, n
    finally:
        _server.stop(srv)


s.main("redis", body)
