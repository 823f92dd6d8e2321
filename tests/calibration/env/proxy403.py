"""A proxy on 127.0.0.1:PORT that answers every request (CONNECT or plain) with 403 Forbidden."""
import http.server
import sys


class Deny(http.server.BaseHTTPRequestHandler):
    def _deny(self):
        body = b"forbidden by the calibration proxy\n"
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_CONNECT = do_PATCH = do_OPTIONS = _deny

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Deny)
print("ready", flush=True)
srv.serve_forever()
