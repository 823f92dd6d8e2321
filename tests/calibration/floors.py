#!/usr/bin/env python3
"""Measure each backend's resource floors with the real backend: the least free space in its data
dir, the lowest RLIMIT_NOFILE and the lowest RLIMIT_AS with which its smoke program still
succeeds. Bisection over a ladder of values (assumes more of a resource never hurts), each probe a
real smoke run in its own namespaces (tmpfs data dir filled to leave N KiB; prlimit for limits).

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
from envs import FILL  # noqa: E402

LADDERS = {
    "free-space": ("KiB", [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]),
    "open-files": ("descriptors", [12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024, 4096]),
    "address-space": ("MiB", [256, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 16384, 32768]),
}


def setup_for(resource, v):
    if resource == "free-space":
        size_kib = v + 4096
        return FILL + f'\nmount -t tmpfs -o size={size_kib}k tmpfs "$D" || exit 97\nfill_to {v}\nWRAP=""'
    if resource == "open-files":
        return f'WRAP="prlimit --nofile={v}:{v}"'
    return f'WRAP="prlimit --as={v * 1024 * 1024}"'


SCRIPT = r"""
set -u
D="$CAL_DATA"; mkdir -p "$D"; chmod 755 "$D"; ip link set lo up
%s
$WRAP timeout -s KILL $((CAL_DEADLINE + 5)) "$CAL_PY" "$CAL_SMOKE" --data-dir "$D" --deadline "$CAL_DEADLINE"
"""


def smoke_ok(backend, resource, v, a):
    with tempfile.TemporaryDirectory(dir=a.work) as t:
        os.chmod(t, 0o755)
        e = dict(os.environ, VIRTUAL_ENV=a.venv, PATH=f"{a.venv}/bin:" + os.environ["PATH"],
                 CAL_DATA=os.path.join(t, "data"), CAL_PY=f"{a.venv}/bin/python",
                 CAL_SMOKE=os.path.join(HERE, "smoke", f"{backend}.py"), CAL_DEADLINE=str(a.deadline))
        cmd = ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private", "--net",
               "bash", "-c", SCRIPT % setup_for(resource, v)]
        r = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=a.deadline * 3 + 60)
        for line in r.stdout.splitlines():
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if "ok" in j:
                return j["ok"], j.get("error")
        return False, f"no result (rc {r.returncode})"


def bisect(backend, resource, a):
    unit, ladder = LADDERS[resource]
    lo, hi = -1, len(ladder) - 1  # invariant: ladder[hi] ok (checked), ladder[lo] fails
    ok, err = smoke_ok(backend, resource, ladder[hi], a)
    if not ok:
        return {"unit": unit, "min_ok": None, "max_fail": ladder[hi], "error": err}
    last_err = None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok, err = smoke_ok(backend, resource, ladder[mid], a)
        if ok:
            hi = mid
        else:
            lo, last_err = mid, err
    return {"unit": unit, "min_ok": ladder[hi], "max_fail": ladder[lo] if lo >= 0 else None,
            "error_below": last_err}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--venv", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--backends", required=True)
    p.add_argument("--resources", default="free-space,open-files,address-space")
    p.add_argument("--deadline", type=int, default=45)
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
            result.setdefault(b, {})[res] = r
            print(f"[floors] {b:<14} {res:<14} min ok {r['min_ok']} {r['unit']}, fails at {r['max_fail']}: "
                  f"{(r.get('error_below') or r.get('error') or '')[:150]}", flush=True)
            with open(a.out, "w") as f:
                json.dump(result, f, indent=1, sort_keys=True)
                f.write("\n")


if __name__ == "__main__":
    main()
