#!/usr/bin/env bash
# A memory cgroup with a limit, for the calibration's memory environments and floors:
#   memcg.sh create NAME BYTES   make a child cgroup NAME with that memory limit (swap not
#                                allowed on top) and print its directory; the caller then
#                                writes its pid into DIR/cgroup.procs
#   memcg.sh remove NAME         remove it (after its processes have exited)
# cgroup v2 (a memory controller at /sys/fs/cgroup): under this process's own cgroup's parent,
# since a v2 cgroup that holds processes cannot enable controllers for children. cgroup v1:
# under this process's own memory cgroup. Exit 97 when neither is writable here.
set -u
base() {
  if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    own=$(sed -n 's/^0:://p' /proc/self/cgroup)
    echo "2 /sys/fs/cgroup$(dirname "${own:-/x}")"
  else
    own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/self/cgroup)
    [ -d "/sys/fs/cgroup/memory$own" ] || return 1
    echo "1 /sys/fs/cgroup/memory$own"
  fi
}
read -r version dir < <(base) || exit 97
[ -n "${dir:-}" ] || exit 97
cg="${dir%/}/wsl-vecprobe-cal-$2"
case "$1" in
  create)
    mkdir -p "$cg" || exit 97
    if [ "$version" = 2 ]; then
      echo +memory > "${dir%/}/cgroup.subtree_control" 2>/dev/null
      echo "$3" > "$cg/memory.max" || exit 97
      echo 0 > "$cg/memory.swap.max" 2>/dev/null
    else
      echo "$3" > "$cg/memory.limit_in_bytes" || exit 97
      echo "$3" > "$cg/memory.memsw.limit_in_bytes" 2>/dev/null
    fi
    echo "$cg" ;;
  remove)
    [ -d "$cg" ] || exit 0
    for i in $(seq 1 50); do rmdir "$cg" 2>/dev/null && exit 0; sleep 0.1; done
    echo "memcg.sh: $cg still busy" >&2; exit 1 ;;
  *) echo "usage: memcg.sh create NAME BYTES | remove NAME" >&2; exit 2 ;;
esac
