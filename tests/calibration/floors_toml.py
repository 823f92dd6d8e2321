#!/usr/bin/env python3
"""Turn reports/calibration-floors.json into `[[floors]]` blocks in probes/<backend>.toml.

Only floors the calibration actually saw fail are written (a resource whose whole ladder
worked has no floor to record). `min` is the least value with which the real backend worked
(so a host below it is under every value that was seen to work); the block is regenerated
between the marker lines, so re-running after a new measurement is idempotent:

    python3 tests/calibration/floors_toml.py --apply
"""

import argparse
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN = "# --- resource floors measured by tests/calibration/floors.py (generated: floors_toml.py) ---"
END = "# --- end of measured floors ---"
FACTOR = {"KiB": 1024, "MiB": 1024 * 1024, "descriptors": 1, "tasks": 1, "inodes": 1}
FAILS_WITH = {"free-space": "ENOSPC", "open-files": "EMFILE", "address-space": "ENOMEM",
              "memory": "killed by the OOM killer", "pids": "EAGAIN (can't start new thread)",
              "inodes": "ENOSPC (no free inodes)"}


def pids_per_cpu(at_two, floors):
    """Tasks per logical CPU from the floors measured with 1, 2 (the machine) and 16 online CPUs
    (`floors.py --cpus`): the larger of the 1->2 and 2->16 slopes, rounded up; (0, "") without
    them. A backend that failed even at the top of the ladder with 16 counts as needing it."""
    def available(key):
        f = floors.get(key) or {}
        if f.get("min_ok_available") is not None:
            return f["min_ok_available"]
        if f.get("min_ok") is None and f.get("max_fail") is not None:
            return f["max_fail"]  # failed at the top of the ladder: at least that
        return None
    one, sixteen = available("pids@1cpus"), available("pids@16cpus")
    slopes = []
    if one is not None:
        slopes.append(at_two - one)
    if sixteen is not None:
        slopes.append(-(-(sixteen - at_two) // 14))
    per_cpu = max([0] + slopes)
    said = f"with 1 CPU {one}, with 16 online CPUs {sixteen} tasks available at the least limit that worked"
    return per_cpu, said


def block(backend, floors):
    out = [BEGIN]
    for res in ("free-space", "open-files", "address-space", "memory", "pids", "inodes"):
        f = floors.get(res)
        if not f or f.get("min_ok") is None or f.get("max_fail") is None:
            continue
        k = FACTOR[f["unit"]]
        err = (f.get("error_below") or "").replace("\\", "/").replace('"', "'")
        err = " | ".join(line.strip() for line in err.splitlines() if line.strip())
        err = re.sub(r"/var/tmp/\S+", "<data dir>", err)[:160]
        m = re.match(r"no result \(rc (\d+)\)", err)
        if m and int(m.group(1)) > 128:
            sig = int(m.group(1)) - 128
            err = {6: "killed by SIGABRT", 7: "killed by SIGBUS", 9: "killed by SIGKILL",
                   11: "killed by SIGSEGV"}.get(sig, f"killed by signal {sig}")
            if res == "memory" and sig == 9:
                err = "killed by the OOM killer (SIGKILL)"
        fails_with = err[:100] or FAILS_WITH[res]
        minimum = f["min_ok"] * k
        seen = f'worked with {f["min_ok"]} {f["unit"]}, failed with {f["max_fail"]} {f["unit"]}'
        # Memory: the floor is what `check` saw available under the least limit that worked
        # (the limit less the shell's own memory), in whole MiB: the quantity the rule compares.
        if res == "memory" and f.get("min_ok_available_bytes"):
            minimum = f["min_ok_available_bytes"] // (1024 * 1024) * 1024 * 1024
            seen = (f'worked under a limit of {f["min_ok"]} MiB with {minimum // (1024 * 1024)} MiB available, '
                    f'failed under {f["max_fail"]} MiB')
        # Pids: likewise the tasks `check` saw available under the least limit that worked
        # (the limit less the shell's own), measured on a machine with 2 logical CPUs.
        per_cpu = None
        if res == "pids" and f.get("min_ok_available") is not None:
            minimum = f["min_ok_available"]
            seen = (f'worked under a pids limit of {f["min_ok"]} with {minimum} tasks available, '
                    f'failed under {f["max_fail"]}; 2 logical CPUs')
            per_cpu, scaled = pids_per_cpu(minimum, floors)
            if per_cpu:
                minimum = max(1, minimum - 2 * per_cpu)
                seen += f"; {scaled}"
        # Inodes: the free inodes `check` saw (the tmpfs's own root dir takes one).
        if res == "inodes" and f.get("min_ok_available") is not None:
            minimum = f["min_ok_available"]
            seen = (f'worked on a filesystem of {f["min_ok"]} inodes with {minimum} free, '
                    f'failed with {f["max_fail"]}')
        out += [
            "[[floors]]",
            f'resource = "{res}"',
            f"min = {minimum}",
        ] + ([f"per_cpu = {per_cpu}"] if per_cpu else []) + [
            f'fails_with = "{fails_with} (calibration: {seen})"',
            'source = "reports/calibration-floors.json; reports/calibration.md"',
            "",
        ]
    out.append(END)
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--floors", default=os.path.join(ROOT, "reports", "calibration-floors.json"))
    p.add_argument("--apply", action="store_true")
    a = p.parse_args()
    with open(a.floors) as f:
        data = json.load(f)
    for backend, floors in sorted(data.items()):
        path = os.path.join(ROOT, "probes", f"{backend}.toml")
        text = open(path).read()
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n", "", text, flags=re.S).rstrip("\n") + "\n"
        b = block(backend, floors)
        if b.count("[[floors]]") == 0:
            new = text
        else:
            new = text + "\n" + b
        if a.apply:
            with open(path, "w") as f:
                f.write(new)
        print(f"{backend}: {b.count('[[floors]]')} floor(s)")


if __name__ == "__main__":
    main()
