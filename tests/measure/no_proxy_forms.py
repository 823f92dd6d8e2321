import json, subprocess, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class T(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length","6"); self.end_headers(); self.wfile.write(b"direct")
    def log_message(self,*a): pass
class F(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(403); self.send_header("Content-Length","1"); self.end_headers(); self.wfile.write(b"x")
    do_CONNECT=do_GET
    def log_message(self,*a): pass
def serve(h):
    s=ThreadingHTTPServer(("127.0.0.1",0),h); threading.Thread(target=s.serve_forever,daemon=True).start(); return s.server_address[1]
t=serve(T); f=serve(F)
code='''import sys
c,u=sys.argv[1],sys.argv[2]
if c=="httpx":
    import httpx; r=httpx.get(u,timeout=3); print("direct" if r.text=="direct" else "proxied")
else:
    import requests; r=requests.get(u,timeout=3); print("direct" if r.text=="direct" else "proxied")
'''
for np in ["127.0.0.0/8","127.0.0.1/32",".localhost","localhost","LOCALHOST","*","0.0.1","host","localhost:%d"%t, " localhost , 127.0.0.1 "]:
  for npvar in ["no_proxy","NO_PROXY"]:
    for host in ["127.0.0.1","localhost"]:
        for c in ["httpx","requests"]:
            env={"PATH":"/usr/bin:/bin","http_proxy":f"http://127.0.0.1:{f}",npvar:np}
            r=subprocess.run([sys.executable,"-c",code,c,f"http://{host}:{t}/"],env=env,capture_output=True,text=True)
            print(json.dumps({"client":c,"no_proxy_var":npvar,"no_proxy":np,"host":host,"outcome":r.stdout.strip() or r.stderr.strip()[-60:]}),flush=True)
