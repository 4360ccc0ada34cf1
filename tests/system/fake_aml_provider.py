#!/usr/bin/env python3
# A fake AML screening provider for walletd_aml.sh: answers POST /screen as the file MODE_FILE
# says at the time of the request (allow, deny, review, fail: HTTP 500, slow: waits SLOW_S then
# allows), and appends each request body to LOG_FILE. Prints its port once listening.
# Usage: fake_aml_provider.py MODE_FILE LOG_FILE
import http.server
import json
import sys
import time

mode_file, log_file = sys.argv[1], sys.argv[2]
SLOW_S = 1.5


class handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the standard library's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log_file, "ab") as log:
            log.write(body + b"\n")
        with open(mode_file) as f:
            mode = f.read().strip()
        if mode == "fail":
            self.answer(500, {"error": "provider failing"})
        elif mode == "slow":
            time.sleep(SLOW_S)
            self.answer(200, {"verdict": "allow"})
        else:
            self.answer(200, {"verdict": mode, "reference": "fake-1"})

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # walletd gave up waiting (its timeout): nothing to answer

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
