#!/usr/bin/env bash
# CI step: the calibration's fast subset (light embedded backends sqlite-vec, faiss, usearch,
# duckdb-vss in the healthy, read-only, full and nearly-full environments). It installs what it
# needs (idempotent), builds the binary, and FAILS on any unsafe miss (our verdict viable/degraded
# where the real backend failed) or agreement below 95 %. The report goes to target/, not reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
# The debug binary: `cargo test` just built it, so no release build from scratch here.
CALIBRATION_PROFILE=debug exec tests/calibration/calibrate --subset ci --out target/calibration-ci.md
