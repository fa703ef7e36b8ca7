#!/usr/bin/env python3
"""A small HTTP server on 127.0.0.1 for tests/test_fetch.cpp: `nst weights fetch` against real HTTP.

    python3 tests/http_server.py --root DIR --port-file FILE --log FILE

Binds 127.0.0.1 on a free port and writes the port to --port-file once it listens. Serves:
  GET /files/NAME   DIR/NAME, honouring a `Range: bytes=N-` header (206 with Content-Range); 404 if absent
  GET /cut/NAME     the same, except that the first request without a Range header announces the whole
                    length, sends half the bytes and closes the connection: an interrupted download
Every request is appended to --log as "METHOD PATH RANGE" (RANGE "-" when none), for the test to read.
Standard library only; nothing beyond loopback.
"""
import argparse
import http.server
import os
import socketserver
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    cut_done = set()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet: the test reads --log
            pass

        def do_GET(self):
            rng = self.headers.get("Range")
            with lock, open(args.log, "a") as log:
                log.write("GET %s %s\n" % (self.path, rng or "-"))
            parts = self.path.split("/")
            if len(parts) != 3 or parts[1] not in ("files", "cut") or not parts[2] or parts[2].startswith("."):
                return self.fail(404)
            path = os.path.join(args.root, parts[2])
            if not os.path.isfile(path):
                return self.fail(404)
            with open(path, "rb") as f:
                data = f.read()
            start = 0
            if rng:
                if not rng.startswith("bytes=") or not rng[6:].rstrip("-").isdigit() or not rng.endswith("-"):
                    return self.fail(416)
                start = int(rng[6:-1])
                if start >= len(data):
                    return self.fail(416)
            cut = parts[1] == "cut" and not rng and path not in cut_done
            if cut:
                cut_done.add(path)
            self.send_response(206 if rng else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if rng:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.end_headers()
            if cut:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(data[start:])

        def fail(self, code):
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
