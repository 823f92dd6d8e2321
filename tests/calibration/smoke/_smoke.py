"""Shared frame of the calibration smoke programs.

Each smoke program does what an application does with the backend's default configuration: create
a store in --data-dir, insert 100 vectors, search, close, reopen, read back. It prints ONE JSON line
{"backend","ok","stage","error","seconds","version"}. A Python exception is a failure at the stage
reached; SIGALRM at --deadline reports a hang ("deadline"), and the harness kills the process a few
seconds later if even that does not get through. With --hold the program stops after the store is
created and written, prints {"ready": true} on stdout, and keeps the store open until killed: that
is the "store already open in another process" fault.
"""

import argparse
import json
import os
import signal
import sys
import time
import traceback

import _server  # noqa: F401  (cached before the path is stripped)

# The smoke programs are named like the packages they test (faiss.py, redis.py, usearch.py):
# drop their directory from sys.path so `import faiss` finds the real package.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

DIM = 8
COUNT = 100

_state = {"stage": "start", "backend": "?", "version": None, "t0": time.monotonic()}


def vectors(n=COUNT, dim=DIM):
    """Deterministic vectors (no RNG state shared with the backend)."""
    return [[((i * 31 + j * 7) % 97) / 97.0 for j in range(dim)] for i in range(n)]


def id_base():
    """First id of this run's vectors: distinct per run, so a second instance on the same store
    adds its own rows (as a second copy of an application would) instead of colliding."""
    return (os.getpid() % 100000) * 1000


def stage(name):
    _state["stage"] = name


def set_version(v):
    _state["version"] = v


def _emit(ok, error=None):
    line = {
        "backend": _state["backend"],
        "ok": ok,
        "stage": _state["stage"],
        "error": (error or None) and error[:600],
        "seconds": round(time.monotonic() - _state["t0"], 3),
        "version": _state["version"],
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _on_alarm(signum, frame):
    _emit(False, f"deadline: still in stage {_state['stage']} after the deadline (hang)")
    os._exit(3)


def hold_here(args):
    """In --hold mode: report ready and keep the store (and any server) alive until killed."""
    if not args.hold:
        return
    sys.stdout.write(json.dumps({"ready": True, "backend": _state["backend"]}) + "\n")
    sys.stdout.flush()
    signal.alarm(0)
    while True:
        time.sleep(3600)


def main(backend, body):
    """Parse the arguments, run body(data_dir, args), print the one JSON line, exit 0/1."""
    _state["backend"] = backend
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    p.add_argument("--deadline", type=float, default=60)
    p.add_argument("--hold", action="store_true")
    args = p.parse_args()
    signal.signal(signal.SIGALRM, _on_alarm)
    if not args.hold:
        signal.alarm(max(1, int(args.deadline)))
    try:
        body(args.data_dir, args)
    except BaseException as e:  # noqa: BLE001 - every failure is an outcome
        if isinstance(e, SystemExit) and e.code in (0, None):
            raise
        msg = f"{type(e).__name__}: {e}".strip()
        if not str(e):
            msg += " | " + traceback.format_exc(limit=3).replace("\n", " ")[-300:]
        _emit(False, msg)
        os._exit(1)
    stage("done")
    _emit(True)
    os._exit(0)
