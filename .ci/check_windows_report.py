#!/usr/bin/env python3
"""Check a `wsl-vecprobe.exe check --format json` report made on Windows (under Wine in CI):
it parses, says it ran on Windows, and no observation is skipped as "not implemented"
(skips by design, e.g. net.egress or the Linux-only OFD lock, are allowed). The lock and
memory-map checks must have passed across two processes."""
import json
import sys

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
skipped = [o["id"] for o in probes if o["status"] == "skipped"]
print(f"windows report: {len(probes)} observations, {len(skipped)} skipped by design: {', '.join(skipped)}")
if problems:
    print("windows report problems:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
