#!/usr/bin/env bash
# The speed benchmark, one command: benches/run.sh [--runs N] [--out FILE]
#
# Over the release binary (built here unless WSL_VECPROBE_BIN names one), side by side in one run:
#   host; check with 1, 4 and 20 data dirs; check --timeout 2s in a network namespace whose
#   loopback SYNs nftables drops (root: unshare, ip, nft); and the alternative, the calibration
#   smoke programs (tests/calibration/smoke/<backend>.py, venv from
#   `tests/calibration/calibrate --setup-only`) each starting its real backend once, with the
#   ratio to a 1-dir check. Wall times by hyperfine (Debian package; median, stddev, min-max),
#   peak RSS (/usr/bin/time) and CPU time (getrusage) over 5 more runs, and the budgets of issue 10.
# Writes a Markdown report to --out (default target/bench/report.md) and prints it.
# Env: WSL_VECPROBE_BIN (binary), CALIBRATION_DIR (default tests/calibration),
#      CALIBRATION_HOME (default ~/.cache/wsl-vecprobe-calibration), SMOKE_DEADLINE (60 s).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=30
OUT=target/bench/report.md
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

need() { command -v "$1" >/dev/null 2>&1; }
if ! need hyperfine || [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && need apt-get; then
    echo "bench: installing hyperfine and time (Debian)" >&2
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends hyperfine time >/dev/null
  else
    echo "bench: needs hyperfine and /usr/bin/time (apt-get install hyperfine time)" >&2
    exit 1
  fi
fi
need python3 || { echo "bench: needs python3 to summarise" >&2; exit 1; }

BIN=${WSL_VECPROBE_BIN:-}
if [ -z "$BIN" ]; then
  cargo build --release --quiet
  BIN=$ROOT/target/release/wsl-vecprobe
fi
BIN=$(readlink -f "$BIN")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsl-vecprobe-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/json" "$(dirname "$OUT")"
dirs() { local n=$1 out=""; for i in $(seq 1 "$n"); do mkdir -p "$WORK/d$i"; out+=" --data-dir $WORK/d$i"; done; echo "$out"; }
D1=$(dirs 1); D4=$(dirs 4); D20=$(dirs 20)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# name|budget-kind|command
ROWS=(
  "host|host|$BIN host"
  "check, 1 data dir|check1|$BIN check --format json$D1"
  "check, 4 data dirs|none|$BIN check --format json$D4"
  "check, 20 data dirs|check20|$BIN check --format json$D20"
)
# For the profile: the same 1-dir check with its data dir on tmpfs, to separate what the data
# dir's filesystem costs (inode allocation, fsync, page cache) from the tool's own work.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SHM=$(mktemp -d /dev/shm/wsl-vecprobe-bench.XXXXXX)
  trap 'rm -rf "$WORK" "$SHM"' EXIT
  ROWS+=("check, 1 data dir on tmpfs (/dev/shm)|none|$BIN check --format json --data-dir $SHM")
fi
# Dirs on one filesystem share its file/map/lock checks (src/probe/shared_fs.rs); four dirs on
# four filesystems each get their own: the cost per filesystem (the four tmpfs mounts are made
# in a private mount namespace inside the timed command, about 1 ms of it).
if [ "$(id -u)" = 0 ] && need unshare; then
  mkdir -p "$WORK/fs1" "$WORK/fs2" "$WORK/fs3" "$WORK/fs4"
  FS4_SCRIPT="for i in 1 2 3 4; do mount -t tmpfs -o size=64m tmpfs $WORK/fs\$i || exit 97; done; exec $BIN check --format json --data-dir $WORK/fs1 --data-dir $WORK/fs2 --data-dir $WORK/fs3 --data-dir $WORK/fs4"
  ROWS+=("check, 4 data dirs on 4 filesystems (tmpfs)|none|unshare --mount --propagation private sh -c \"$FS4_SCRIPT\"")
fi
SYN_SCRIPT="ip link set lo up && nft add table inet vecprobe_bench && nft add chain inet vecprobe_bench input '{ type filter hook input priority 0; }' && nft add rule inet vecprobe_bench input tcp flags syn / syn,ack drop && exec $BIN check --format json --timeout 2s$D1"
if [ "$(id -u)" = 0 ] && need unshare && need ip && need nft; then
  ROWS+=("check --timeout 2s, loopback SYNs dropped|syndrop|unshare --net sh -c \"$SYN_SCRIPT\"")
else
  echo "bench: SKIP the SYN-drop row (needs root, unshare, ip, nft)" >&2
fi

: >"$WORK/rows.tsv"
i=0
for row in "${ROWS[@]}"; do
  IFS='|' read -r name kind cmd <<<"$row"
  i=$((i + 1))
  runs=$RUNS
  [ "$kind" = syndrop ] && runs=5
  echo "bench: $name ($runs runs)" >&2
  hyperfine --style none --warmup 2 --runs "$runs" -N --export-json "$WORK/json/$i.json" "$cmd" >/dev/null 2>&1 \
    || hyperfine --style none --warmup 2 --runs "$runs" --export-json "$WORK/json/$i.json" "$cmd" >/dev/null
  # Over 5 more runs: peak RSS (/usr/bin/time) and CPU (getrusage RUSAGE_CHILDREN, µs).
  read -r rss cpu < <(python3 - "$cmd" <<'PY'
import resource, statistics, subprocess, sys
cpu, rss = [], [0]
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # RSS from /usr/bin/time: a forked python child's high-water mark would count python.
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "sh", "-c", sys.argv[1]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
    last = (r.stderr.strip().splitlines() or ["0"])[-1]
    rss.append(int(last) if last.isdigit() else 0)
print(max(rss), statistics.median(cpu))
PY
)
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$WORK/json/$i.json" "$rss" "$cpu" >>"$WORK/rows.tsv"
done

# The alternative: each real backend started once by its calibration smoke program.
CAL_DIR=${CALIBRATION_DIR:-$ROOT/tests/calibration}
CAL_HOME=${CALIBRATION_HOME:-$HOME/.cache/wsl-vecprobe-calibration}
PY=$CAL_HOME/venv/bin/python
: >"$WORK/smoke.tsv"
SMOKE_NOTE=""
if [ ! -d "$CAL_DIR/smoke" ]; then
  SMOKE_NOTE="skipped: no smoke programs at $CAL_DIR/smoke (they come with the calibration suite)"
elif [ ! -x "$PY" ]; then
  SMOKE_NOTE="skipped: no calibration venv at $CAL_HOME/venv (run tests/calibration/calibrate --setup-only)"
else
  for prog in "$CAL_DIR"/smoke/[!_]*.py; do
    id=$(basename "$prog" .py)
    d=$(mktemp -d "$WORK/smoke-$id.XXXX")
    echo "bench: smoke $id" >&2
    t0=$(date +%s%N)
    line=$( { /usr/bin/time -o "$d.rss" -f %M timeout $((${SMOKE_DEADLINE:-60} + 10)) \
      "$PY" "$prog" --data-dir "$d" --deadline "${SMOKE_DEADLINE:-60}" 2>/dev/null || true; } | tail -1)
    t1=$(date +%s%N)
    printf '%s\t%s\t%s\t%s\n' "$id" "$(( (t1 - t0) / 1000000 ))" "$(tail -1 "$d.rss" 2>/dev/null || echo 0)" \
      "${line:-{\}}" >>"$WORK/smoke.tsv"
  done
fi
[ -n "$SMOKE_NOTE" ] && echo "bench: $SMOKE_NOTE" >&2
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

status=0
python3 - "$WORK/rows.tsv" "$WORK/smoke.tsv" "$BIN" "$LOAD_BEFORE" "$LOAD_AFTER" "$SMOKE_NOTE" "$RUNS" >"$OUT" <<'EOF' || status=$?
import json, os, platform, statistics, subprocess, sys, time
rows_tsv, smoke_tsv, binary, load0, load1, smoke_note, runs = sys.argv[1:]
def cpu():
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            return l.split(":", 1)[1].strip()
    return platform.machine()
mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
size = os.path.getsize(binary)
print(f"Machine: {os.cpu_count()} cores ({cpu()}), {int(mem) // 1024 // 1024} GiB, kernel {platform.release()}; "
      f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Load average before/after: {load0} / {load1}.")
print(f"Command: `benches/run.sh --runs {runs}` (hyperfine, {runs} runs after 2 warm-ups, 5 for the SYN-drop row; "
      "peak RSS = largest of 5 more runs (/usr/bin/time), CPU = median user+sys of them (getrusage), "
      "children included: the load-independent measure when the machine is busy).\n")
print("| Run | Median | Stddev | Min – max | CPU (user+sys) | Peak RSS | Budget | Met |")
print("|---|---|---|---|---|---|---|---|")
med = {}
verdicts = []
for line in open(rows_tsv):
    name, kind, path, rss, cpu_s = line.rstrip("\n").split("\t")
    cpu_ms = float(cpu_s) * 1000
    r = json.load(open(path))["results"][0]
    m = r["median"] * 1000
    med[kind] = m
    rss_mb = int(rss) / 1024
    budget, ok = "—", None
    if kind == "host":
        budget, ok = "≤ 5 ms", m <= 5
    elif kind == "check1":
        budget, ok = "≤ 20 ms", m <= 20
    elif kind == "check20":
        budget, ok = f"≤ 3 × 1 dir = {3 * med.get('check1', 0):.1f} ms", m <= 3 * med.get("check1", 0)
    elif kind == "syndrop":
        budget, ok = "≤ 2 s + 10 % = 2200 ms (max)", r["max"] * 1000 <= 2200
    mark = "—" if ok is None else ("yes" if ok else "**no**")
    rss_ok = rss_mb <= 15
    print(f"| {name} | {m:.1f} ms | {r['stddev'] * 1000:.1f} ms | {r['min'] * 1000:.1f} – {r['max'] * 1000:.1f} ms "
          f"| {cpu_ms:.0f} ms | {rss_mb:.1f} MB{'' if rss_ok else ' (**> 15 MB**)'} | {budget} | {mark} |")
    verdicts.append(ok is not False and rss_ok)
print(f"\nRelease binary: {size / 1e6:.2f} MB ({size} bytes), budget ≤ 4 MB: {'yes' if size <= 4e6 else '**no**'}.\n")
smokes = [l.rstrip("\n").split("\t", 3) for l in open(smoke_tsv)]
if smoke_note:
    print(f"The alternative (calibration smoke programs): {smoke_note}.")
elif smokes:
    base = med.get("check1")
    print("The alternative: each backend started once by its calibration smoke program (real package, "
          "default configuration: create, insert 100, search, reopen).\n")
    print("| Backend | Wall | Reported `seconds` | OK | Peak RSS | × check (1 dir) |")
    print("|---|---|---|---|---|---|")
    total = 0
    for bid, wall, rss, js in smokes:
        try:
            d = json.loads(js)
        except ValueError:
            d = {}
        wall = int(wall)
        total += wall
        ratio = f"{wall / base:.0f}×" if base else "—"
        print(f"| {bid} | {wall} ms | {d.get('seconds', '—')} | {d.get('ok', '—')} | {int(rss or 0) / 1024:.0f} MB | {ratio} |")
    if base:
        print(f"\nAll {len(smokes)} one after another: {total / 1000:.1f} s, {total / base:.0f}× one `check` "
              f"({base:.1f} ms), which rates every backend at once.")
sys.exit(0 if all(verdicts) else 3)
EOF
cat "$OUT"
exit $status
