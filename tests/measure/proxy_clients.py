#!/usr/bin/env python3
"""Measure which Python clients send loopback traffic to a proxy named in which variable.

Loopback only: a target HTTP server and a gRPC server on 127.0.0.1, a "403 proxy" on
127.0.0.1 that answers 403 to every request (CONNECT included), and a dead proxy (a
127.0.0.1 port nobody listens on). Each case runs in a fresh interpreter with only the
variables under test set, and prints one JSON line. Usage (in a venv with the clients):

    pip install grpcio httpx requests urllib3
    python tests/measure/proxy_clients.py > docs/proxy-clients.jsonl
"""
import json, os, socket, subprocess, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Target(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "6"); self.end_headers(); self.wfile.write(b"direct")
    def log_message(self, *a): pass

class Forbidding(BaseHTTPRequestHandler):
    def deny(self):
        self.send_response(403); self.send_header("Content-Length", "9"); self.end_headers(); self.wfile.write(b"forbidden")
    do_GET = do_POST = do_CONNECT = deny
    def log_message(self, *a): pass

def serve(handler):
    s = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s.server_address[1]

def dead_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

CLIENT = r'''
import json, os, sys
client, url, grpc_target = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    if client == "requests":
        import requests; r = requests.get(url, timeout=3); out = "direct" if r.text == "direct" else f"proxied:{r.status_code}"
    elif client == "httpx":
        import httpx; r = httpx.get(url, timeout=3); out = "direct" if r.text == "direct" else f"proxied:{r.status_code}"
    elif client == "urllib3":
        import urllib3; r = urllib3.PoolManager().request("GET", url, timeout=3); out = "direct" if r.data == b"direct" else f"proxied:{r.status}"
    elif client == "grpcio":
        import grpc
        ch = grpc.insecure_channel(grpc_target)
        grpc.channel_ready_future(ch).result(timeout=3); out = "direct"
except Exception as e:
    out = "failed:" + type(e).__name__
print(out)
'''

def grpc_server():
    import grpc
    from concurrent import futures
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = s.add_insecure_port("127.0.0.1:0"); s.start(); return s, port

def main():
    import grpc, httpx, requests, urllib3
    versions = {"python": sys.version.split()[0], "grpcio": grpc.__version__, "httpx": httpx.__version__,
                "requests": requests.__version__, "urllib3": urllib3.__version__}
    print(json.dumps({"versions": versions}))
    target = serve(Target); forbid = serve(Forbidding); dead = dead_port()
    gsrv, gport = grpc_server()
    names = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "grpc_proxy"]
    base = {k: v for k, v in os.environ.items() if k.lower() not in {n.lower() for n in names} | {"no_proxy", "no_grpc_proxy"}}
    for host in ["127.0.0.1", "localhost"]:
        for var in names:
            for proxy_kind, port in [("403", forbid), ("dead", dead)]:
                for no_proxy in [None, "localhost,127.0.0.1"]:
                    env = dict(base); env[var] = f"http://127.0.0.1:{port}"
                    if no_proxy: env["no_proxy"] = no_proxy
                    for client in ["requests", "httpx", "urllib3", "grpcio"]:
                        r = subprocess.run([sys.executable, "-c", CLIENT, client, f"http://{host}:{target}/",
                                            f"{host}:{gport}"], env=env, capture_output=True, text=True, timeout=20)
                        out = (r.stdout.strip() or "failed:" + r.stderr.strip()[-80:])
                        print(json.dumps({"client": client, "host": host, "variable": var, "proxy": proxy_kind,
                                          "no_proxy": no_proxy, "outcome": out}), flush=True)
    gsrv.stop(0)

main()
