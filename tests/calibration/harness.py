#!/usr/bin/env python3
"""Calibration harness: every (environment, backend) cell runs the backend's real smoke program
and `wsl-vecprobe check` in the same fault environment, on the same data dir, inside the same
venv, and compares the two.

Each cell runs in its own `unshare --pid --fork --mount --net` namespace set: the mounts, nftables
rules, port squatters, proxies and servers it makes die with it (PID 1 exiting kills the rest),
and nothing collides with other users of the machine's ports. Loopback is brought up except in
the loopback-down environment. The environments themselves are in envs.py.
"""

import argparse
import concurrent.futures as cf
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import envs as envmod  # noqa: E402
import report as reportmod  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SMOKE = os.path.join(HERE, "smoke")
ALL_BACKENDS = [
    "milvus-lite", "qdrant-local", "qdrant-edge", "chroma", "chroma-server", "lancedb",
    "faiss", "sqlite-vec", "usearch", "duckdb-vss", "pgvector", "redis",
]
CI_BACKENDS = ["sqlite-vec", "faiss", "usearch", "duckdb-vss"]
CI_ENVS = ["healthy", "read-only", "full", "nearly-full"]

CELL_SCRIPT = r"""
set -u
D="$CAL_DATA"; S="$CAL_SCRATCH"; OUT="$CAL_OUT"
mkdir -p "$D" "$S" "$OUT"; chmod 755 "$D" "$S"
[ "${CAL_LO:-up}" = up ] && ip link set lo up
WRAP=""
%(setup)s
echo "$WRAP" > "$OUT/wrap"
if [ -n "${CAL_HOLD:-}" ]; then
  $WRAP "$CAL_PY" "$CAL_SMOKE" --data-dir "$D" --deadline "$CAL_DEADLINE" --hold > "$OUT/hold.out" 2> "$OUT/hold.err" &
  for i in $(seq 1 $((CAL_DEADLINE * 2))); do grep -q ready "$OUT/hold.out" 2>/dev/null && break; sleep 0.5; done
fi
s=$(date +%%s.%%N)
$WRAP timeout -s KILL 30 "$CAL_BIN" check --data-dir "$D" --format json > "$OUT/check.json" 2> "$OUT/check.err"
echo $? > "$OUT/check.rc"
s=$(date +%%s.%%N)
$WRAP timeout -s KILL $((CAL_DEADLINE + 5)) "$CAL_PY" "$CAL_SMOKE" --data-dir "$D" --deadline "$CAL_DEADLINE" > "$OUT/smoke.out" 2> "$OUT/smoke.err"
echo $? > "$OUT/smoke.rc"
e=$(date +%%s.%%N)
echo "$s $e" > "$OUT/smoke.time"
exit 0
"""


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def real_outcome(out, deadline):
    """The smoke program's outcome: ok / fail / hang / crash, with stage and error."""
    rc_text = read(os.path.join(out, "smoke.rc")).strip()
    rc = int(rc_text) if rc_text.lstrip("-").isdigit() else None
    line = None
    for raw in read(os.path.join(out, "smoke.out")).splitlines():
        try:
            j = json.loads(raw)
        except ValueError:
            continue
        if "ok" in j:
            line = j
    t = read(os.path.join(out, "smoke.time")).split()
    secs = round(float(t[1]) - float(t[0]), 2) if len(t) == 2 else None
    if line is not None:
        err = line.get("error") or ""
        kind = "ok" if line["ok"] else ("hang" if err.startswith("deadline") else "fail")
        return {"outcome": kind, "stage": line.get("stage"), "error": err, "seconds": line.get("seconds"),
                "version": line.get("version"), "rc": rc}
    stderr_tail = read(os.path.join(out, "smoke.err"))[-400:].replace("\n", " | ")
    if rc == 137 and secs is not None and secs >= deadline:
        return {"outcome": "hang", "stage": None, "error": f"killed at the hard deadline ({deadline + 5}s)",
                "seconds": secs, "version": None, "rc": rc}
    if rc is not None and (rc > 128 or rc < 0):
        sig = rc - 128 if rc > 128 else -rc
        return {"outcome": "crash", "stage": None, "error": f"died by signal {sig}: {stderr_tail}",
                "seconds": secs, "version": None, "rc": rc}
    return {"outcome": "fail", "stage": "start", "error": f"no result line (rc {rc}): {stderr_tail}",
            "seconds": secs, "version": None, "rc": rc}


def our_verdict(out, backend, data_dir):
    """Our verdict for the backend on that data dir, with its violated reasons."""
    try:
        report = json.loads(read(os.path.join(out, "check.json")))
    except ValueError:
        err = read(os.path.join(out, "check.err"))[-300:].replace("\n", " | ")
        return {"verdict": "none", "why": f"check gave no report (rc {read(os.path.join(out, 'check.rc')).strip()}): {err}"}
    rows = [b for b in report.get("backends", []) if b.get("id") == backend]
    real = os.path.realpath(data_dir)
    pick = [b for b in rows if b.get("data_dir") in (data_dir, real)] or rows
    if not pick:
        return {"verdict": "none", "why": "backend not in the report"}
    b = pick[0]
    why = [
        f"{r.get('probe')} [{r.get('outcome')}/{r.get('effect')}]: {r.get('observed') or r.get('errno')}"
        for r in b.get("reasons", [])
        if r.get("outcome") != "satisfied"
    ]
    return {"verdict": b.get("verdict", "none"), "why": "; ".join(why)[:500]}


def judge(real, ours):
    v = ours["verdict"]
    if v not in ("viable", "degraded", "blocked"):
        return "unknown"
    works = real["outcome"] == "ok"
    if works:
        return "agree" if v != "blocked" else "false-alarm"
    return "agree" if v == "blocked" else "unsafe-miss"


def run_cell(env, backend, ctx):
    tag = f"{env.name}--{backend}"
    base = os.path.join(ctx["work"], tag)
    shutil.rmtree(base, ignore_errors=True)
    data = os.path.join(base, env.data_subpath)
    scratch, out = os.path.join(base, "scratch"), os.path.join(base, "out")
    os.makedirs(out, exist_ok=True)
    venv = ctx["venv"]
    e = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    e.update({
        "VIRTUAL_ENV": venv, "PATH": f"{venv}/bin:" + os.environ.get("PATH", "/usr/bin:/bin"),
        "CAL_DATA": data, "CAL_SCRATCH": scratch, "CAL_OUT": out, "CAL_BIN": ctx["bin"],
        "CAL_PY": f"{venv}/bin/python", "CAL_SMOKE": os.path.join(SMOKE, f"{backend}.py"),
        "CAL_DEADLINE": str(ctx["deadline"]), "CAL_HERE": HERE, "CAL_NOLOCK": ctx["nolock"],
        "CAL_LO": "down" if env.loopback_down else "up", "CAL_HOLD": "1" if env.hold else "",
        "CAL_TAG": tag,
    })
    script = CELL_SCRIPT % {"setup": env.setup}
    cmd = ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private", "--net",
           "bash", "-c", script]
    t0 = time.monotonic()
    try:
        subprocess.run(cmd, env=e, timeout=ctx["deadline"] * 4 + 120, stdout=subprocess.DEVNULL,
                       stderr=open(os.path.join(base, "cell.err"), "w"))
    except subprocess.TimeoutExpired:
        pass
    # A memory environment's cgroup is empty once the namespace's processes are gone.
    for controller in ("memory", "pids"):
        subprocess.run(["bash", os.path.join(HERE, "env", "cgroup.sh"), "remove", controller, tag],
                       stderr=subprocess.DEVNULL)
    real = real_outcome(out, ctx["deadline"])
    ours = our_verdict(out, backend, data)
    cell = {"env": env.name, "backend": backend, "real": real, "ours": ours, "judgement": judge(real, ours),
            "data_dir": data, "wrap": read(os.path.join(out, "wrap")).strip(),
            "cell_seconds": round(time.monotonic() - t0, 1)}
    with open(os.path.join(base, "cell.json"), "w") as f:
        json.dump(cell, f, indent=1)
    if not ctx["keep"]:
        subprocess.run(["rm", "-rf", data, scratch], stderr=subprocess.DEVNULL)
    return cell


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--venv", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--nolock", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--backends", default="")
    p.add_argument("--envs", default="")
    p.add_argument("--subset", default="")
    p.add_argument("--out", required=True)
    p.add_argument("--json-out", default="")
    p.add_argument("--deadline", type=int, default=45)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--versions", default="")
    p.add_argument("--command", default="")
    p.add_argument("--floors", default="")
    p.add_argument("--min-agreement", type=float, default=95.0)
    a = p.parse_args()

    backends = a.backends.split(",") if a.backends else (CI_BACKENDS if a.subset == "ci" else ALL_BACKENDS)
    env_names = a.envs.split(",") if a.envs else (CI_ENVS if a.subset == "ci" else [x.name for x in envmod.ENVS])
    envs = [envmod.by_name(n) for n in env_names]
    ctx = {"venv": a.venv, "bin": a.bin, "nolock": a.nolock, "work": a.work, "deadline": a.deadline,
           "keep": a.keep}
    os.makedirs(a.work, exist_ok=True)
    cells = []
    t0 = time.time()
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futs = [pool.submit(run_cell, e, b, ctx) for e in envs for b in backends]
        for f in cf.as_completed(futs):
            c = f.result()
            cells.append(c)
            print(f"[cal] {c['env']:<14} {c['backend']:<14} real={c['real']['outcome']:<5} "
                  f"ours={c['ours']['verdict']:<9} {c['judgement']}", flush=True)
    order = {(e.name, b): i for i, (e, b) in enumerate((e, b) for e in envs for b in backends)}
    cells.sort(key=lambda c: order[(c["env"], c["backend"])])
    versions = json.loads(read(a.versions, "{}") or "{}")
    summary = reportmod.summarise(cells)
    meta = {"command": a.command, "versions": versions, "envs": [e.describe() for e in envs],
            "backends": backends, "deadline": a.deadline, "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0)),
            "wall_seconds": round(time.time() - t0), "machine": reportmod.machine(a.bin),
            "floors": json.loads(read(a.floors, "{}") or "{}") if a.floors else {}}
    with open(a.out, "w") as f:
        f.write(reportmod.markdown(cells, summary, meta))
    jpath = a.json_out or os.path.splitext(a.out)[0] + ".json"
    with open(jpath, "w") as f:
        json.dump({"summary": summary, "meta": meta, "cells": cells}, f, indent=1)
        f.write("\n")
    print(f"[cal] agreement {summary['agreement_pct']}% ({summary['agree']}/{summary['cells']}), "
          f"unsafe misses {summary['unsafe_miss']}, false alarms {summary['false_alarm']}, "
          f"unknown {summary['unknown']} -> {a.out}", flush=True)
    if summary["unsafe_miss"] > 0 or summary["agreement_pct"] < a.min_agreement:
        print(f"[cal] FAIL: unsafe misses {summary['unsafe_miss']} (must be 0), agreement "
              f"{summary['agreement_pct']}% (threshold {a.min_agreement}%)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
