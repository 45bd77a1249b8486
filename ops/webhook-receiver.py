#!/usr/bin/env python3
"""An example Signoff webhook receiver, for trying webhooks on one machine.

It listens on 127.0.0.1 only, checks each delivery's signature and drops repeated delivery
ids, then prints the notice. Start it, then add a webhook whose URL is
http://127.0.0.1:9300/hook with the same secret (the service must run with
SIGNOFF_WEBHOOK_ALLOW_PRIVATE=1 to accept a loopback address):

    SIGNOFF_WEBHOOK_SECRET='a secret of 16 or more characters' ops/webhook-receiver.py [--port 9300]
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SEEN = set()
MAX_SKEW_SECONDS = 300


def valid_signature(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class Handler(BaseHTTPRequestHandler):
    secret = b""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(length, 1 << 20))
        timestamp = self.headers.get("X-Signoff-Timestamp", "")
        signature = self.headers.get("X-Signoff-Signature", "")
        delivery = self.headers.get("X-Signoff-Delivery", "")
        if not valid_signature(self.secret, timestamp, body, signature):
            self.send_response(401)
            self.end_headers()
            return
        # A replayed old request is refused; the service signs each try with the time of that try.
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
            print(f"old timestamp {timestamp} for {delivery}", file=sys.stderr)
        if delivery in SEEN:
            print(f"duplicate {delivery}, ignored")
        else:
            SEEN.add(delivery)
            notice = json.loads(body)
            print(f"[{notice['event']}] {notice['title']}: {notice['body']}")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=9300)
    args = parser.parse_args()
    secret = os.environ.get("SIGNOFF_WEBHOOK_SECRET", "")
    if len(secret) < 16:
        sys.exit("set SIGNOFF_WEBHOOK_SECRET to the webhook's secret (16 or more characters)")
    Handler.secret = secret.encode()
    server = HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{args.port}/hook")
    server.serve_forever()


if __name__ == "__main__":
    main()
