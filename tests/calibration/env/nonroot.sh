#!/usr/bin/env bash
# nonroot.sh UID ASIDE PATH...: make each PATH reachable by UID inside the CURRENT mount namespace only
# (the calibration cell's; run it nowhere else). The calibration venv usually lives under /root,
# which is 0700 on Debian: for the first ancestor of a PATH the user cannot traverse, the PATH is
# bind-mounted aside, a 0755 tmpfs is mounted over that ancestor, and the PATH is bind-mounted back
# at its own absolute path (so VIRTUAL_ENV, PATH and the venv's own paths stay valid). No file
# outside the namespace changes mode or owner. Exit 1 when a PATH still cannot be reached.
set -u
uid="$1"; aside="$2"; shift 2   # ASIDE: an empty dir in the cell's scratch dir
mkdir -p "$aside" || exit 1
as_user() { setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
n=0
for p in "$@"; do
  as_user test -r "$p" && continue
  # The first ancestor the user cannot enter.
  blocked=""; prefix=""
  IFS=/ read -ra parts <<< "${p#/}"
  for part in "${parts[@]}"; do
    prefix="$prefix/$part"
    [ "$prefix" = "$p" ] && break
    as_user test -x "$prefix" || { blocked="$prefix"; break; }
  done
  [ -n "$blocked" ] || { echo "nonroot.sh: $p is unreadable by uid $uid (not a parent's mode)" >&2; exit 1; }
  # Keep every PATH under the blocked ancestor, then cover the ancestor and put them back.
  keep=()
  for q in "$@"; do case "$q" in "$blocked"/*) keep+=("$q") ;; esac; done
  for q in "${keep[@]}"; do
    n=$((n + 1)); mkdir -p "$aside/$n"
    if [ -d "$q" ]; then mount --bind "$q" "$aside/$n" || exit 1
    else touch "$aside/$n.f"; mount --bind "$q" "$aside/$n.f" || exit 1; fi
  done
  mount -t tmpfs -o mode=0755,size=1m tmpfs "$blocked" || exit 1
  i=$((n - ${#keep[@]}))
  for q in "${keep[@]}"; do
    i=$((i + 1))
    if [ -d "$aside/$i" ] && mountpoint -q "$aside/$i"; then
      mkdir -p "$q" && mount --bind "$aside/$i" "$q" || exit 1
    else
      mkdir -p "$(dirname "$q")" && touch "$q" && mount --bind "$aside/$i.f" "$q" || exit 1
    fi
  done
done
for p in "$@"; do as_user test -r "$p" || { echo "nonroot.sh: $p still unreadable by uid $uid" >&2; exit 1; }; done
exit 0
