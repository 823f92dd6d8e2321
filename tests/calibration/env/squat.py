"""Bind and listen on each port given (127.0.0.1 and ::1 where possible), never accept: the
"default port already taken" fault."""
import socket
import sys
import time

held = []
for port in map(int, sys.argv[1:]):
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.bind((addr, port))
            s.listen(1)
            held.append(s)
        except OSError as e:
            print(f"port {addr}:{port}: {e}", flush=True)
print("ready", len(held), flush=True)
while True:
    time.sleep(3600)
