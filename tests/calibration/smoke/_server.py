"""Start and stop a backend's server process for the server smoke programs.

The server runs with its default port and its data in the data dir; its log goes to an
anonymous temp file (no name, so nothing is left behind even when the smoke program is killed)
so a failing server's last lines become the smoke program's error text.
"""
import os
import subprocess
import tempfile
import time


def start(argv, name, user=None):
    log = tempfile.TemporaryFile(prefix=f"cal-server-{name}-")
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    p._cal_log = log
    return p


def tail(p, n=400):
    try:
        fd = p._cal_log.fileno()
        size = os.fstat(fd).st_size
        data = os.pread(fd, n, max(0, size - n))
        return data.decode(errors="replace").replace("\n", " | ")
    except OSError:
        return ""


def wait_ready(p, probe, timeout):
    """Call probe() until it returns truthy; fail if the server exits or timeout passes."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        if p.poll() is not None:
            raise RuntimeError(f"server exited with {p.returncode}: {tail(p)}")
        try:
            if probe():
                # Our own server must still be running a while later: a client that reached
                # another process's server on the same port has not started this one (a second
                # `chroma run` prints "Address localhost:8000 is not available" and exits 0,
                # seconds after the other server answered our heartbeat).
                grace = time.monotonic() + 5.0
                while time.monotonic() < grace:
                    if p.poll() is not None:
                        raise RuntimeError(f"server exited with {p.returncode}: {tail(p)}")
                    time.sleep(0.2)
                return
        except Exception as e:  # noqa: BLE001
            last = e
        time.sleep(0.3)
    raise TimeoutError(f"server not ready after {timeout:.0f}s (last: {last}); log: {tail(p)}")


def stop(p, sig=15):
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
