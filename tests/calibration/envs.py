"""The fault environments of the calibration: each is a bash snippet run inside the cell's own
mount + network + pid namespaces before `check` and the smoke program, with $D the data dir, $S a
scratch dir outside it, and $WRAP a command prefix both runs get (prlimit, env, the lock filter).
The patterns are the fault lab's (tests/fault_fs.rs, fault_net.rs, fault_process.rs)."""

from dataclasses import dataclass

# Default ports of the backends in the catalogue (server backends, and what `check` probes).
DEFAULT_PORTS = [19530, 9091, 2379, 6333, 6334, 8000, 5432, 6379, 9200, 9300, 8079, 50060]

PROXY_VARS = ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "grpc_proxy", "all_proxy", "ALL_PROXY"]


@dataclass
class Env:
    name: str
    what: str
    setup: str = ""
    loopback_down: bool = False
    hold: bool = False
    data_subpath: str = "data"

    def describe(self):
        return {"name": self.name, "what": self.what}


def _proxy_wrap(url):
    return "WRAP=\"env " + " ".join(f"{v}={url}" for v in PROXY_VARS) + "\""


FILL = r"""fill_to() {  # leave about $1 KiB free on $D
  avail=$(df -k --output=avail "$D" | tail -1 | tr -d ' ')
  n=$(( avail - $1 )); [ $n -gt 0 ] && dd if=/dev/zero of="$D/.filler" bs=1k count=$n status=none 2>/dev/null
  sync; true
}"""

# The shell joins a fresh memory cgroup, then the backend's files leave the page cache, so it
# starts cold and its libraries are charged to its cgroup, as in a new container.
MEMCG = """CG=$(bash "$CAL_HERE/env/cgroup.sh" create memory "$CAL_TAG" %d) || exit 97
echo $$ > "$CG/cgroup.procs" || exit 97
"$CAL_PY" "$CAL_HERE/env/evict.py" "$VIRTUAL_ENV" /usr/lib/python3.11 /usr/lib/postgresql /usr/bin/redis-server"""

# A container with a pids limit (`docker run --pids-limit`, a Kubernetes pod's pid limit,
# systemd `TasksMax=`): the shell joins a fresh pids cgroup; past it clone() fails with EAGAIN.
PIDSCG = """CG=$(bash "$CAL_HERE/env/cgroup.sh" create pids "$CAL_TAG" %d) || exit 97
echo $$ > "$CG/cgroup.procs" || exit 97"""

ENVS = [
    Env("healthy", "the data dir on the machine's disk (ext4), nothing broken"),
    Env("read-only", "the data dir bind-mounted read-only (ext4, ro)",
        'mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" || exit 97'),
    Env("full", "the data dir is a 256 KiB tmpfs filled to ENOSPC",
        'mount -t tmpfs -o size=256k tmpfs "$D" || exit 97\n'
        'dd if=/dev/zero of="$D/.filler" bs=4k status=none 2>/dev/null; true'),
    Env("nearly-full", "the data dir is a tmpfs with about 48 KiB free",
        FILL + '\nmount -t tmpfs -o size=8m tmpfs "$D" || exit 97\nfill_to 48'),
    Env("low-space", "the data dir is a tmpfs with about 2 MiB free (between nearly-full and healthy)",
        FILL + '\nmount -t tmpfs -o size=16m tmpfs "$D" || exit 97\nfill_to 2048'),
    Env("mmap-refused", "the data dir is a FUSE bindfs mount with direct_io: shared writable maps fail (ENODEV)",
        'mkdir -p "$S/src" && bindfs -o direct_io "$S/src" "$D" || exit 97'),
    Env("locks-enolck", "every flock/fcntl lock call fails with ENOLCK (seccomp filter on both runs, as NFS "
        "without lockd answers)", 'WRAP="$CAL_NOLOCK ENOLCK"'),
    Env("locks-eopnotsupp", "every flock/fcntl lock call fails with EOPNOTSUPP (seccomp filter on both runs)",
        'WRAP="$CAL_NOLOCK EOPNOTSUPP"'),
    Env("loopback-down", "a network namespace whose loopback interface is down", loopback_down=True),
    Env("syn-dropped", "loopback up, nftables drops every TCP SYN (connects hang)",
        "nft add table inet cal && nft add chain inet cal input '{ type filter hook input priority 0; }' "
        "&& nft add rule inet cal input tcp flags syn / syn,ack drop || exit 98"),
    Env("ports-taken", "every backend's default port is already bound and listening by another process",
        '"$CAL_PY" "$CAL_HERE/env/squat.py" ' + " ".join(map(str, DEFAULT_PORTS)) + ' > "$S/squat.out" 2>&1 &\n'
        'for i in $(seq 1 40); do grep -q ready "$S/squat.out" 2>/dev/null && break; sleep 0.1; done'),
    Env("rlimit-low", "RLIMIT_NOFILE 256 and RLIMIT_AS 4 GiB (prlimit) on both runs",
        'WRAP="prlimit --nofile=256:256 --as=4294967296"'),
    Env("rlimit-very-low", "RLIMIT_NOFILE 32 and RLIMIT_AS 1 GiB (prlimit) on both runs",
        'WRAP="prlimit --nofile=32:32 --as=1073741824"'),
    Env("long-path", "a data dir whose absolute path is about 300 characters long",
        data_subpath="/".join(["a-rather-long-directory-name-for-the-calibration-run"] * 5) + "/data"),
    Env("proxy-dead", "http(s)_proxy/grpc_proxy/all_proxy (both cases) point at 127.0.0.1:9, where nothing "
        "listens; no no_proxy", _proxy_wrap("http://127.0.0.1:9")),
    Env("proxy-403", "the proxy variables point at a live proxy on 127.0.0.1:3128 that answers 403 to "
        "everything; no no_proxy",
        '"$CAL_PY" "$CAL_HERE/env/proxy403.py" 3128 > "$S/proxy.out" 2>&1 &\n'
        'for i in $(seq 1 40); do grep -q ready "$S/proxy.out" 2>/dev/null && break; sleep 0.1; done\n'
        + _proxy_wrap("http://127.0.0.1:3128")),
    # Filesystems users put data dirs on that no fault above stands for: each is healthy, and
    # the verdicts must follow what it really does (the tool has no rule for any of them).
    Env("xfs", "the data dir is an XFS filesystem (512 MiB loop image)",
        'truncate -s 512M "$S/img" && mkfs.xfs -q "$S/img" && mount -o loop "$S/img" "$D" || exit 97'),
    Env("btrfs", "the data dir is a Btrfs filesystem (copy-on-write; 512 MiB loop image)",
        'truncate -s 512M "$S/img" && mkfs.btrfs -q "$S/img" >/dev/null && mount -o loop "$S/img" "$D" '
        '|| exit 97'),
    Env("ntfs-3g", "the data dir is NTFS through ntfs-3g (FUSE), as a Windows partition mounted on "
        "Linux (256 MiB image)",
        'truncate -s 256M "$S/img" && mkntfs -F -q -f "$S/img" >/dev/null 2>&1 && ntfs-3g "$S/img" "$D" '
        '|| exit 97'),
    Env("overlayfs", "the data dir is an overlay mount (a container's writable layer)",
        'mkdir -p "$S/lower" "$S/upper" "$S/work" && mount -t overlay overlay '
        '-o lowerdir="$S/lower",upperdir="$S/upper",workdir="$S/work" "$D" || exit 97'),
    Env("fuse-plain", "the data dir is a plain FUSE passthrough (bindfs, no direct_io), as sshfs or "
        "rclone mounts are",
        'mkdir -p "$S/src" && bindfs "$S/src" "$D" || exit 97'),
    Env("tmpfs", "the data dir is a 1 GiB tmpfs (RAM disk, /dev/shm-like)",
        'mount -t tmpfs -o size=1g tmpfs "$D" || exit 97'),
    # A container or systemd unit with a memory limit (`docker run --memory`, Kubernetes
    # resources.limits.memory, MemoryMax=): the cell's shell joins a fresh memory cgroup
    # (env/cgroup.sh), so check and the backend run under the limit; over it the OOM killer acts.
    Env("memory-80m", "a memory cgroup limit of 80 MiB around check and the backend (a small container)",
        MEMCG % (80 << 20)),
    Env("memory-256m", "a memory cgroup limit of 256 MiB around check and the backend",
        MEMCG % (256 << 20)),
    Env("pids-24", "a cgroup pids limit of 24 tasks (processes and threads) around check and the backend "
        "(a container started with --pids-limit 24)", PIDSCG % 24),
    Env("store-in-use", "a first instance of the same backend holds its store in the data dir (servers on "
        "their default port) while check and the second instance run", hold=True),
]


def by_name(name):
    for e in ENVS:
        if e.name == name:
            return e
    raise SystemExit(f"calibrate: unknown environment {name!r} (known: {', '.join(e.name for e in ENVS)})")
