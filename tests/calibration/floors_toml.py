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
FACTOR = {"KiB": 1024, "MiB": 1024 * 1024, "descriptors": 1}
FAILS_WITH = {"free-space": "ENOSPC", "open-files": "EMFILE", "address-space": "ENOMEM",
              "memory": "killed by the OOM killer"}


def block(backend, floors):
    out = [BEGIN]
    for res in ("free-space", "open-files", "address-space", "memory"):
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
        out += [
            "[[floors]]",
            f'resource = "{res}"',
            f"min = {minimum}",
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
