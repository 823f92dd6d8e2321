#!/usr/bin/env python3
"""Check a `wsl-vecprobe.exe check --format json` report made on Windows (under Wine in CI):
it parses, says it ran on Windows, and no observation is skipped as "not implemented"
(skips by design, e.g. net.egress or the Linux-only OFD lock, are allowed). The lock and
memory-map checks must have passed across two processes, and no observation names a Unix
call for what Windows did (a message says LockFileEx or FlushViewOfFile, never flock or msync)."""
import json
import re
import sys

# Unix calls and files a Windows observation must not claim to have used. (F_OFD_SETLK is
# named on purpose by the skipped lock.ofd, as Linux-only.)
UNIX_WORDING = re.compile(
    r"MAP_PRIVATE|MAP_SHARED|\bmsync|\bmadvise|\bftruncate|\bF_SETLK|\bF_GETLK|\bflock\(|"
    r"\bfcntl\(|\bstatv?fs\b|\bgetrlimit|/proc/|/dev/shm|\bpread\b|flock and POSIX|"
    r"\bfsync|\brename\(\)|\blink\(\)|\bfallocate|\brenameat2"
)

report = json.load(open(sys.argv[1], encoding="utf-8"))
probes = report["probes"]
problems = []
if report["host"].get("os") != "windows":
    problems.append(f"host.os is {report['host'].get('os')!r}, not 'windows'")
for o in probes:
    msg = (o.get("message") or "").lower()
    if o["status"] == "skipped" and "not implemented" in msg:
        problems.append(f"{o['id']} ({o['target']}): skipped: {o['message']}")
for o in probes:
    if o["id"].startswith(("mmap.", "lock.flock", "lock.fcntl")) and o["status"] != "pass":
        problems.append(f"{o['id']} ({o['target']}): {o['status']}: {o.get('message')}")
for o in probes:
    hit = UNIX_WORDING.search(o.get("message") or "")
    if hit:
        problems.append(f"{o['id']} ({o['target']}): Unix wording `{hit.group(0)}`: {o['message']}")
skipped = [o["id"] for o in probes if o["status"] == "skipped"]
print(f"windows report: {len(probes)} observations, {len(skipped)} skipped by design: {', '.join(skipped)}")
if problems:
    print("windows report problems:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
