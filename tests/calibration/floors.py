#!/usr/bin/env python3
"""Measure each backend's resource floors with the real backend: the least free space in its data
dir, the lowest RLIMIT_NOFILE, the lowest RLIMIT_AS and the smallest memory cgroup limit with
which its smoke program still succeeds. Bisection over a ladder of values (assumes more of a
resource never hurts), each probe a real smoke run in its own namespaces (tmpfs data dir filled
to leave N KiB; prlimit for limits; a child memory cgroup, env/cgroup.sh, for memory: below it
the kernel's OOM killer ends the backend, as in a container started with `--memory`; a child pids
cgroup for pids: past it the kernel refuses new threads and processes (EAGAIN), as in a container
started with `--pids-limit`; each memory and pids value must work three times running, since near
such a limit a backend may work once and fail the next).

Writes JSON {backend: {resource: {"min_ok": v, "max_fail": v, "unit": ...}}} and prints a table.
The profiles' `[[floors]]` cite this run (reports/calibration-floors.json)."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from envs import FILL, MEMCG, PIDSCG  # noqa: E402

LADDERS = {
    "free-space": ("KiB", [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]),
    "open-files": ("descriptors", [12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024, 4096]),
    "address-space": ("MiB", [256, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 16384, 32768]),
    "memory": ("MiB", [24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 112, 128, 160, 192, 256, 384, 512, 1024, 2048,
                       4096]),
    "pids": ("tasks", [4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 64, 96, 128, 256]),
    "inodes": ("inodes", [4, 8, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 256, 512, 1024, 1536, 2048, 4096]),
}
# Resources whose floor is recorded as what `check` reported under the limit (the quantity the
# rule compares), and which must work `--repeat` times at a value.
CGROUP_RESOURCES = {"memory": ("limits.memory", "available_bytes"), "pids": ("limits.pids", "available")}
# Resources recorded as what `check` reported (observation id, field), measured once a value.
CHECKED = dict(CGROUP_RESOURCES, inodes=("file.free_space", "free_inodes"))


def setup_for(resource, v):
    if resource == "free-space":
        size_kib = v + 4096
        return FILL + f'\nmount -t tmpfs -o size={size_kib}k tmpfs "$D" || exit 97\nfill_to {v}\nWRAP=""'
    if resource == "open-files":
        return f'WRAP="prlimit --nofile={v}:{v}"'
    if resource == "memory":
        return MEMCG % (v * 1024 * 1024) + '\nWRAP=""'
    if resource == "pids":
        return PIDSCG % v + '\nWRAP=""'
    if resource == "inodes":
        # Bytes to spare, few inodes: a tmpfs's root dir takes one of them.
        return f'mount -t tmpfs -o size=512m,nr_inodes={v} tmpfs "$D" || exit 97\nWRAP=""'
    return f'WRAP="prlimit --as={v * 1024 * 1024}"'


SCRIPT = r"""
set -u
D="$CAL_DATA"; mkdir -p "$D"; chmod 755 "$D"; ip link set lo up
%s
%s
[ -n "${CAL_CHECK_OUT:-}" ] && timeout -s KILL 30 "$CAL_BIN" check --format json --data-dir "$D" > "$CAL_CHECK_OUT" 2>/dev/null
$WRAP timeout -s KILL $((CAL_DEADLINE + 5)) "$CAL_PY" "$CAL_SMOKE" --data-dir "$D" --deadline "$CAL_DEADLINE"
"""


def cpus_setup(n):
    """`--cpus N`: the backend sees N online CPUs (sysconf, os.cpu_count(), C++'s
    hardware_concurrency read /sys/devices/system/cpu/online, bind-mounted in this mount
    namespace); with N=1 its affinity is one CPU too (taskset), so affinity-sized pools (tokio,
    Rust's available_parallelism, OpenMP) shrink as well. Affinity cannot grow past the machine."""
    if not n:
        return ""
    s = (f'echo 0-{n - 1} > "$CAL_DATA.online" && mount --bind "$CAL_DATA.online" /sys/devices/system/cpu/online '
         f'&& mount --bind "$CAL_DATA.online" /sys/devices/system/cpu/possible || exit 97')
    if n == 1:
        s += "\ntaskset -pc 0 $$ >/dev/null || exit 97"
    return s


def smoke_ok(backend, resource, v, a):
    with tempfile.TemporaryDirectory(dir=a.work) as t:
        os.chmod(t, 0o755)
        e = dict(os.environ, VIRTUAL_ENV=a.venv, PATH=f"{a.venv}/bin:" + os.environ["PATH"],
                 CAL_DATA=os.path.join(t, "data"), CAL_PY=f"{a.venv}/bin/python",
                 CAL_SMOKE=os.path.join(HERE, "smoke", f"{backend}.py"), CAL_DEADLINE=str(a.deadline),
                 CAL_HERE=HERE, CAL_TAG=os.path.basename(t), CAL_BIN=a.bin)
        # Memory: what `check` reports available under the same limit, just before the backend
        # starts, is the floor in the unit the rule compares (limits.memory.available_bytes).
        if resource in CHECKED:
            e["CAL_CHECK_OUT"] = os.path.join(t, "check.json")
        cmd = ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private", "--net",
               "bash", "-c", SCRIPT % (cpus_setup(a.cpus), setup_for(resource, v))]
        try:
            r = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=a.deadline * 3 + 60)
        finally:
            if resource in CGROUP_RESOURCES:
                subprocess.run(["bash", os.path.join(HERE, "env", "cgroup.sh"), "remove", resource, e["CAL_TAG"]])
        seen = checked_available(e.get("CAL_CHECK_OUT"), resource)
        for line in r.stdout.splitlines():
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if "ok" in j:
                return j["ok"], j.get("error"), seen
        return False, f"no result (rc {r.returncode})", seen


def checked_available(path, resource):
    """What a check report said is available of a cgroup resource, None without one."""
    if resource not in CHECKED:
        return None
    oid, field = CHECKED[resource]
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, TypeError, ValueError):
        return None
    for o in report.get("probes", []):
        if o.get("id") == oid:
            return (o.get("values") or {}).get(field)
    return None


def smoke_ok_every_time(backend, resource, v, a):
    """The smoke at one ladder value, `--repeat` times for memory (near a memory limit a backend
    may work once and thrash the next time: the floor is where it worked every time)."""
    runs = a.repeat if resource in CGROUP_RESOURCES else 1
    seen = None
    for _ in range(runs):
        ok, err, seen_now = smoke_ok(backend, resource, v, a)
        seen = seen_now if seen is None or (seen_now is not None and seen_now < seen) else seen
        if not ok:
            return False, err, seen
    return True, None, seen


def bisect(backend, resource, a):
    unit, ladder = LADDERS[resource]
    lo, hi = -1, len(ladder) - 1  # invariant: ladder[hi] ok (checked), ladder[lo] fails
    ok, err, seen = smoke_ok_every_time(backend, resource, ladder[hi], a)
    if not ok:
        return {"unit": unit, "min_ok": None, "max_fail": ladder[hi], "error": err}
    last_err, seen_ok = None, seen
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok, err, seen = smoke_ok_every_time(backend, resource, ladder[mid], a)
        if ok:
            hi, seen_ok = mid, seen
        else:
            lo, last_err = mid, err
    out = {"unit": unit, "min_ok": ladder[hi], "max_fail": ladder[lo] if lo >= 0 else None,
           "error_below": last_err}
    if resource == "memory":
        out["min_ok_available_bytes"] = seen_ok
    if resource in ("pids", "inodes"):
        out["min_ok_available"] = seen_ok
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--venv", required=True)
    p.add_argument("--bin", required=True, help="the wsl-vecprobe binary (memory floors are read by it)")
    p.add_argument("--work", required=True)
    p.add_argument("--backends", required=True)
    p.add_argument("--resources", default="free-space,open-files,address-space,memory,pids,inodes")
    p.add_argument("--deadline", type=int, default=45)
    p.add_argument("--repeat", type=int, default=3, help="memory: runs that must all work at a value")
    p.add_argument("--cpus", type=int, default=0,
                   help="show the backend this many online CPUs (1: its affinity too); results go under "
                        "RESOURCE@Ncpus")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    try:
        with open(a.out) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {}
    for b in a.backends.split(","):
        for res in a.resources.split(","):
            r = bisect(b, res, a)
            result.setdefault(b, {})[f"{res}@{a.cpus}cpus" if a.cpus else res] = r
            print(f"[floors] {b:<14} {res:<14} min ok {r['min_ok']} {r['unit']}, fails at {r['max_fail']}: "
                  f"{(r.get('error_below') or r.get('error') or '')[:150]}", flush=True)
            with open(a.out, "w") as f:
                json.dump(result, f, indent=1, sort_keys=True)
                f.write("\n")


if __name__ == "__main__":
    main()
