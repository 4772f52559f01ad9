#!/usr/bin/env python3
"""Change events and webhooks under load, on PostgreSQL (run by bench/events.sh).

1. Drain: 10,000 profiles are seeded with an active webhook and no worker running,
   which queues 10,000 deliveries; then 1, and then 2, serving processes (replicas
   on one database) are started idle and the backlog is released at once (reset to
   PENDING, NOTIFY): the time until a local receiver has had every event, events/s,
   and whether each arrived exactly once.
2. The cost of the outbox to a write: `updateProfile` (each request changes a name)
   loaded with the same generator against the build before change events existed
   (the baseline commit), this build with no webhook, and this build with an active
   webhook whose deliveries go out while the load runs: req/s, p50, p99.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, Server, load, post, psql  # noqa: E402


def receiver_stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        return json.load(response)


def receiver_reset(port):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/reset", b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def fresh_database(admin_url, name, binary):
    base = admin_url.rsplit("/", 1)[0]
    psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(admin_url, f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    subprocess.run([binary, "migrate"], env={**os.environ, "DATABASE_URL": url, "RUST_LOG": "warn"}, check=True)
    return url


def server(name, binary, url, port, work, **settings):
    env = {"DATABASE_URL": url, "PROFILES_LISTEN": f"127.0.0.1:{port}", "RUST_LOG": "warn",
           "PROFILES_WEBHOOK_POLL": "1s", **settings}
    return Server(name, [binary], env, f"http://127.0.0.1:{port}/graphql", os.path.join(work, f"{name}.log"))


def create_webhook(graphql_url, receiver_port):
    answer = post(graphql_url, "mutation($i: WebhookInput!) { createWebhook(input: $i) { webhook { id } userErrors { code } } }",
                  {"i": {"url": f"http://127.0.0.1:{receiver_port}/hook", "events": ["*"]}})
    assert answer["data"]["createWebhook"]["webhook"], answer


def seed(binary, url, profiles):
    subprocess.run([binary, "seed", "--profiles", str(profiles), "--seed", "7"],
                   env={**os.environ, "DATABASE_URL": url, "RUST_LOG": "warn"}, check=True)


def drain(o, work, receiver):
    url = fresh_database(o.admin_url, "bench_events_drain", o.ours)
    setup = server("setup", o.ours, url, 18300, work).start()
    create_webhook(setup.url, receiver)
    setup.stop()
    seed(o.ours, url, o.events)  # no worker runs: every delivery stays PENDING
    pending = int(psql(url, "SELECT count(*) FROM webhook_delivery WHERE status = 'PENDING'"))
    assert pending == o.events, pending
    psql(url, "VACUUM ANALYZE")
    rows = []
    for replicas in (1, 2):
        receiver_reset(receiver)
        psql(url, "UPDATE webhook_delivery SET status = 'PENDING', attempts = 0, delivered_at = NULL, "
                  "locked_until = NULL, next_attempt_at = now() - interval '1 second', last_status_code = NULL")
        # Park the backlog while the replicas start: the claim only takes due rows.
        psql(url, "UPDATE webhook_delivery SET next_attempt_at = now() + interval '1 day'")
        servers = [server(f"replica{n}", o.ours, url, 18310 + n, work).start() for n in range(replicas)]
        started = time.monotonic()
        psql(url, "UPDATE webhook_delivery SET next_attempt_at = now() - interval '1 second'; NOTIFY profile_events")
        while receiver_stats(receiver)["requests"] < o.events and time.monotonic() - started < 600:
            time.sleep(0.05)
        seconds = time.monotonic() - started
        # Let stragglers (a second sending) show before counting.
        time.sleep(1)
        stats = receiver_stats(receiver)
        delivered = int(psql(url, "SELECT count(*) FROM webhook_delivery WHERE status = 'DELIVERED'"))
        for s in servers:
            s.stop()
        rows.append((replicas, seconds, o.events / seconds, stats["requests"], stats["distinct"], delivered))
    print(f"\n### Drain of {o.events:,} queued events (one webhook, local receiver, concurrency 16 per process)\n")
    print("| replicas | drain s | events/s | requests received | distinct ids | DELIVERED rows |")
    print("|---:|---:|---:|---:|---:|---:|")
    for replicas, seconds, rate, requests, distinct, delivered in rows:
        print(f"| {replicas} | {seconds:.2f} | {rate:,.0f} | {requests:,} | {distinct:,} | {delivered:,} |")


def update_bodies(work, url, profiles):
    ids = psql(url, f"SELECT id FROM profile ORDER BY created_at, id LIMIT {profiles}").split()
    path = os.path.join(work, "updates.ndjson")
    query = "mutation($id: UUID!, $n: String!) { updateProfile(id: $id, input: { firstName: $n }) { profile { version } userErrors { code } } }"
    with open(path, "w") as out:
        # Every id twice, with two names: each request changes the name it finds.
        for round_ in range(2):
            for id_ in ids:
                out.write(json.dumps({"query": query, "variables": {"id": id_, "n": f"Bench{round_}"}}) + "\n")
    return path


def writes(o, work, receiver):
    variants = [
        ("baseline (before change events)", o.baseline, "bench_events_base", False),
        ("change events, no webhook", o.ours, "bench_events_outbox", False),
        ("change events, one webhook delivering", o.ours, "bench_events_hook", True),
    ]
    rows = []
    for name, binary, database, hook in variants:
        url = fresh_database(o.admin_url, database, binary)
        seed(binary, url, o.profiles)
        psql(url, "VACUUM ANALYZE")
        bodies = update_bodies(work, url, o.profiles)
        for round_ in range(o.rounds):
            s = server(database, binary, url, 18320, work).start()
            if hook and round_ == 0:
                create_webhook(s.url, receiver)
            load(o.tool, s.url, bodies, o.warmup, o.connections, work)
            rate, p50, p99, errors, requests = load(o.tool, s.url, bodies, o.seconds, o.connections, work)
            s.stop()
            rows.append((name, round_ + 1, rate, p50, p99, errors))
    print(f"\n### updateProfile under load ({o.connections} connections, {o.seconds} s after {o.warmup} s warm-up)\n")
    print("| build | round | req/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, round_, rate, p50, p99, errors in rows:
        print(f"| {name} | {round_} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {errors} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--ours", required=True)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--tool", default="wrk")
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--profiles", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    o = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        receiver = subprocess.Popen([o.node, os.path.join(ROOT, "bench", "receiver.mjs")], stdout=subprocess.PIPE, text=True)
        try:
            port = int(receiver.stdout.readline())
            drain(o, work, port)
            writes(o, work, port)
        finally:
            receiver.terminate()


if __name__ == "__main__":
    main()
