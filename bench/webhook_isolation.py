#!/usr/bin/env python3
"""One bad receiver must not slow the others: a healthy webhook's delivery latency.

Starts the binary on a fresh SQLite file with PROFILES_WEBHOOK_TIMEOUT=2s, four
webhooks whose receivers accept the connection and never answer, and one healthy
receiver (204 at once), all on every event; then commits 41 profiles one after the
other and reports how long after each commit (the mutation's answer) the healthy
receiver had its delivery: p50, p95, max.

    python3 bench/webhook_isolation.py [--binary target/release/profiles-gateway] [--events 41]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hanging_receiver():
    """A listener that accepts every connection and never answers: its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held = []

    def accept():
        while True:
            connection, _ = listener.accept()
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def healthy_receiver(arrivals):
    """A receiver that answers 204 at once and notes when each profile's event came."""

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            arrivals[json.loads(body)["profileId"]] = time.monotonic()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def post(port, query):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", json.dumps({"query": query}).encode(),
                                     {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * p)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/profiles-gateway"))
    parser.add_argument("--events", type=int, default=41)
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"no binary at {args.binary}: cargo build --release (or pass --binary)")
    workdir = tempfile.mkdtemp(prefix="pgw-isolation-")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite://{workdir}/isolation.db?mode=rwc", PROFILES_LISTEN=f"127.0.0.1:{port}",
               PROFILES_METRICS_LISTEN="off", PROFILES_WEBHOOK_TIMEOUT="2s", RUST_LOG="warn")
    server = subprocess.Popen([args.binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        arrivals = {}
        targets = [hanging_receiver() for _ in range(4)] + [healthy_receiver(arrivals)]
        for target in targets:
            post(port, f'mutation {{ createWebhook(input: {{ url: "http://127.0.0.1:{target}/hook", events: ["*"] }}) '
                       '{ userErrors { code } } }')
        committed = {}
        for n in range(args.events):
            answer = post(port, f'mutation {{ createProfile(input: {{ firstName: "P{n}" }}) {{ profile {{ id }} }} }}')
            committed[answer["data"]["createProfile"]["profile"]["id"]] = time.monotonic()
        deadline = time.monotonic() + 120
        while len(arrivals) < len(committed) and time.monotonic() < deadline:
            time.sleep(0.05)
        latencies = [arrivals[id] - at for id, at in committed.items() if id in arrivals]
        print(f"healthy webhook, {len(latencies)} of {len(committed)} events, four receivers hanging, "
              f"PROFILES_WEBHOOK_TIMEOUT=2s: after commit p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
              f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
