#!/usr/bin/env bash
# A child cgroup with a limit, for the calibration's memory and pids environments and floors:
#   cgroup.sh create CONTROLLER NAME VALUE  make a child cgroup NAME with that limit and print
#                                           its directory; the caller then writes its pid into
#                                           DIR/cgroup.procs. CONTROLLER is `memory` (VALUE in
#                                           bytes; swap not allowed on top) or `pids` (VALUE in
#                                           tasks: processes and threads, as `--pids-limit`)
#   cgroup.sh remove CONTROLLER NAME        remove it (after its processes have exited)
# cgroup v2 (the controller at /sys/fs/cgroup): under this process's own cgroup's parent,
# since a v2 cgroup that holds processes cannot enable controllers for children. cgroup v1:
# under this process's own cgroup of that controller. Exit 97 when neither is writable here.
set -u
ctl=${2:-}
case "$ctl" in memory|pids) ;; *) echo "usage: cgroup.sh create|remove memory|pids NAME [VALUE]" >&2; exit 2 ;; esac
base() {
  if grep -qw "$ctl" /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    own=$(sed -n 's/^0:://p' /proc/self/cgroup)
    echo "2 /sys/fs/cgroup$(dirname "${own:-/x}")"
  else
    own=$(awk -F: -v c="$ctl" '$2 ~ "(^|,)" c "(,|$)" {print $3; exit}' /proc/self/cgroup)
    [ -d "/sys/fs/cgroup/$ctl$own" ] || return 1
    echo "1 /sys/fs/cgroup/$ctl$own"
  fi
}
read -r version dir < <(base) || exit 97
[ -n "${dir:-}" ] || exit 97
cg="${dir%/}/wsl-vecprobe-cal-$3"
case "$1" in
  create)
    mkdir -p "$cg" || exit 97
    if [ "$ctl" = pids ]; then
      [ "$version" = 2 ] && echo +pids > "${dir%/}/cgroup.subtree_control" 2>/dev/null
      echo "$4" > "$cg/pids.max" || exit 97
    elif [ "$version" = 2 ]; then
      echo +memory > "${dir%/}/cgroup.subtree_control" 2>/dev/null
      echo "$4" > "$cg/memory.max" || exit 97
      echo 0 > "$cg/memory.swap.max" 2>/dev/null
    else
      echo "$4" > "$cg/memory.limit_in_bytes" || exit 97
      echo "$4" > "$cg/memory.memsw.limit_in_bytes" 2>/dev/null
    fi
    echo "$cg" ;;
  remove)
    [ -d "$cg" ] || exit 0
    for i in $(seq 1 50); do rmdir "$cg" 2>/dev/null && exit 0; sleep 0.1; done
    echo "cgroup.sh: $cg still busy" >&2; exit 1 ;;
  *) echo "usage: cgroup.sh create|remove memory|pids NAME [VALUE]" >&2; exit 2 ;;
esac
