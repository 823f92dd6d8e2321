#!/usr/bin/env bash
# CI step: build the Linux wheel (maturin, bindings = "bin": the wheel ships the binary, as ruff's
# and uv's do), install it into a fresh venv with pip from the file alone, and run the installed
# command as a user would: `wsl-vecprobe check --format json`, parsed. maturin itself comes from
# PyPI into a cached venv (${WSL_VECPROBE_CI_CACHE:-$HOME/.cache/wsl-vecprobe-ci}/maturin).
# Cost: one release build with lto (~1-2 min on 2 cores), the rest a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[wheel %(%H:%M:%S)T] %s\n' -1 "$*"; }

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  log "installing python3-venv"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends python3-venv >/dev/null
fi
CACHE=${WSL_VECPROBE_CI_CACHE:-$HOME/.cache/wsl-vecprobe-ci}
MATURIN_VENV=$CACHE/maturin
if ! "$MATURIN_VENV/bin/maturin" --version >/dev/null 2>&1; then
  log "installing maturin into $MATURIN_VENV"
  python3 -m venv "$MATURIN_VENV"
  "$MATURIN_VENV/bin/pip" install -q "maturin>=1.5,<2"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsl-vecprobe-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS
log "maturin build --release ($("$MATURIN_VENV/bin/maturin" --version))"
"$MATURIN_VENV/bin/maturin" build --release --quiet --out "$WORK/dist"
wheel=$(ls "$WORK"/dist/wsl_vecprobe-*.whl)
log "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KB) in $((SECONDS - start)) s"

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --no-index "$wheel"
installed="$WORK/venv/bin/wsl-vecprobe"
[ -x "$installed" ] || { echo "wheel: the wheel installed no wsl-vecprobe command" >&2; exit 1; }
mkdir "$WORK/data"
"$installed" check --format json --data-dir "$WORK/data" >"$WORK/report.json"
python3 - "$WORK/report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["schema_version"] == 1, report["schema_version"]
assert report["run"]["command"] == "check", report["run"]
assert report["backends"], "no backend rated"
assert report["probes"], "no observation"
print(f"[wheel] installed command: {len(report['backends'])} backends rated, "
      f"{len(report['probes'])} observations in {report['run']['elapsed_ms']:.0f} ms")
PY
log "ok in $((SECONDS - start)) s"
