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

# A hosts file made in the scratch dir and bind-mounted over /etc/hosts (only in the cell's
# mount namespace). The %s is the file's text as a printf format.
HOSTS = 'printf "%s" > "$S/hosts" && mount --bind "$S/hosts" /etc/hosts || exit 97'

# Run both check and the smoke program as uid/gid 65534 (nobody). The venv is under
# $CALIBRATION_HOME (by default /root/.cache/...), and /root is often 0700: inside the cell's mount
# namespace only, a 0755 tmpfs is put over the top directory of that path that the user cannot
# traverse, with the original subtrees bind-mounted back at the same paths (nothing outside the
# namespace changes). The binary, the smoke programs and the venv must be readable by the user.
NONROOT = """bash "$CAL_HERE/env/nonroot.sh" 65534 "$S/aside" "$VIRTUAL_ENV" "$CAL_BIN" "$CAL_SMOKE" "$CAL_HERE" || exit 97
mkdir -p "$S/home" && chown 65534:65534 "$S/home" || exit 97
WRAP="setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=%s USER=nobody LOGNAME=nobody"
$WRAP test -x "$CAL_PY" -a -r "$CAL_SMOKE" -a -x "$CAL_BIN" || exit 97
$WRAP "$CAL_PY" -c 'import numpy' || exit 97"""

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
    # ---- name resolution of "localhost" (clients connect to "localhost", servers bind it) ----
    # /etc/hosts is replaced only inside the cell's mount namespace (a bind mount over the file).
    Env("ipv6-lo-disabled", "IPv6 disabled in the cell's network namespace (net.ipv6.conf.{all,lo}."
        "disable_ipv6=1, so ::1 does not exist) while /etc/hosts still maps localhost to ::1 (Debian's "
        "default hosts file), as on hosts booted with ipv6.disable or WSL/Docker setups",
        HOSTS % r"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + "\n"
        "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1 || exit 97\n"
        '[ -z "$(ip -6 addr show dev lo)" ] || exit 97'),
    Env("hosts-no-localhost", "an /etc/hosts with no `localhost` line (nsswitch `hosts: files dns`; the "
        "namespace has no route to the DNS server, so getaddrinfo(\"localhost\") fails)",
        HOSTS % r"127.0.0.1\tmyhost\n" + "\n"
        'getent hosts localhost >/dev/null && exit 97; true'),
    Env("hosts-localhost-v6-first", "/etc/hosts maps localhost to ::1 before 127.0.0.1 (IPv6 up on "
        "loopback): localhost resolves to ::1 first while servers may listen on 127.0.0.1 only",
        HOSTS % r"::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\tlocalhost\n" + "\n"
        '[ "$(getent ahosts localhost | head -1 | cut -d" " -f1)" = ::1 ] || exit 97'),
    # ---- inodes: bytes free, no (or few) files left ----
    Env("inodes-exhausted", "the data dir is a 512 MiB tmpfs whose inodes are all used (nr_inodes=8, "
        "the rest taken by empty files): bytes are free but creating a file fails with ENOSPC",
        'mount -t tmpfs -o size=512m,nr_inodes=8 tmpfs "$D" || exit 97\n'
        'i=0; while touch "$D/.inode$i" 2>/dev/null; do i=$((i+1)); [ $i -gt 64 ] && exit 97; done\n'
        '[ "$(df --output=iavail "$D" | tail -1 | tr -d " ")" = 0 ] || exit 97'),
    # 512 MiB so that free bytes stay far above every free-space floor (64 MiB block, 128 MiB
    # degrade): at size=64m the floor of pgvector and qdrant-edge equals the tmpfs size and the
    # verdict flipped with the few KiB check's own probes had in the dir at the statvfs.
    # Final inode counts after the smoke on ext4: pgvector ~1000, qdrant-edge 29, milvus-lite 11,
    # lancedb 10, chroma 8, qdrant-local 7, redis 3, the single-file stores 2 (with the dir).
    Env("inodes-low", "the data dir is a 512 MiB tmpfs with only 24 inodes (nr_inodes; CAL_INODES "
        "overrides): enough for check's own probes and the small stores, not for PostgreSQL's initdb "
        "(~1000 files) or a qdrant-edge shard (29)",
        'mount -t tmpfs -o size=512m,nr_inodes=${CAL_INODES:-24} tmpfs "$D" || exit 97'),
    # ---- the temp dir ----
    Env("tmpdir-unwritable", "TMPDIR (both runs) names a read-only directory (an ro bind mount, so root "
        "cannot write it either); /tmp itself is fine",
        'mkdir -p "$S/rotmp" && mount --bind "$S/rotmp" "$S/rotmp" && mount -o remount,bind,ro "$S/rotmp" '
        '|| exit 97\ntouch "$S/rotmp/x" 2>/dev/null && exit 97\nWRAP="env TMPDIR=$S/rotmp"'),
    Env("tmp-readonly", "/tmp is read-only (ro bind remount inside the cell's mount namespace), TMPDIR unset",
        'mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp || exit 97\n'
        'touch /tmp/.cal-ro-test 2>/dev/null && exit 97\nWRAP="env -u TMPDIR"'),
    # ---- an unprivileged user ----
    Env("nonroot-user", "check and the backend run as an unprivileged user (uid/gid 65534 via setpriv, "
        "HOME in the scratch dir) on a data dir that user owns",
        NONROOT % "$S/home" + '\nchown 65534:65534 "$D" || exit 97'),
    Env("nonroot-foreign-dir", "check and the backend run as an unprivileged user (uid/gid 65534) on a data "
        "dir owned by root, mode 0755 (not writable by that user)",
        NONROOT % "$S/home" + '\nchown 0:0 "$D" && chmod 0755 "$D" || exit 97'),
    # ---- found while exploring the ones above ----
    # Every backend here survives an unwritable TMPDIR or /tmp because Python's tempfile and
    # SQLite fall back to /var/tmp: a read-only root filesystem (Kubernetes readOnlyRootFilesystem,
    # `docker run --read-only` without a tmpfs on /tmp) takes both. The cell's own dir (data,
    # scratch, outputs) stays writable, and the working directory is the scratch dir (an app's
    # writable WORKDIR; the smoke frame's server log dir comes from tempfile, which would otherwise
    # fail at import and hide the backend's own behaviour).
    Env("tmpdirs-readonly", "/tmp and /var/tmp both read-only (a read-only root filesystem without a "
        "tmpfs on /tmp), TMPDIR unset, working directory writable",
        'B=$(dirname "$D"); mount --bind "$B" "$B" || exit 97\n'
        'mount --rbind /var/tmp /var/tmp && mount -o remount,bind,ro /var/tmp || exit 97\n'
        'mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp || exit 97\n'
        'touch /tmp/.cal-ro-test 2>/dev/null && exit 97\ntouch /var/tmp/.cal-ro-test 2>/dev/null && exit 97\n'
        'touch "$D/.w" && rm "$D/.w" || exit 97\ncd "$S" || exit 97\nWRAP="env -u TMPDIR"'),
    # A container run with an arbitrary uid (OpenShift, `docker run --user 65534`): HOME is
    # /nonexistent (nobody's passwd entry), so anything that writes under ~ cannot.
    Env("nonroot-no-home", "check and the backend run as uid/gid 65534 with HOME=/nonexistent (its passwd "
        "home, as in a container run with an arbitrary uid) on a data dir that user owns",
        NONROOT % "/nonexistent" + '\nchown 65534:65534 "$D" || exit 97\n[ -e /nonexistent ] && exit 97; true'),
    # ---- noexec ----
    Env("noexec-data", "the data dir bind-mounted noexec (ext4, as a /home or /data mounted noexec)",
        'mount --bind "$D" "$D" && mount -o remount,bind,noexec "$D" || exit 97'),
]


def by_name(name):
    for e in ENVS:
        if e.name == name:
            return e
    raise SystemExit(f"calibrate: unknown environment {name!r} (known: {', '.join(e.name for e in ENVS)})")
