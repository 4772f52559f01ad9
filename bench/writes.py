#!/usr/bin/env python3
"""Write throughput side by side with PostGraphile 5, on one PostgreSQL database (run
by bench/writes.sh).

Every request changes the first name of one of 500 profiles in turn (two names that
alternate, so that every request changes something): our `updateProfile` against
PostGraphile's generated `updateProfileByRowId`, on the same seeded database. Four
servers, one at a time, alternating, each round:

- PostGraphile (no events, no version check, nothing derived);
- ours with change events written and no webhook;
- ours with an active webhook whose deliveries go out to a local receiver during
  the load;
- ours built without change events (`--features bench-no-events`): what events cost;
- optionally (`--before`), another build of ours, e.g. the one before a change.

For each: req/s, p50/p99, server CPU and PostgreSQL CPU per request, and statements per
write (PostgreSQL's log, `log_statement = all`). Both answer the same first name.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, load, post, postgres_cpu_seconds, psql  # noqa: E402

OURS = ("mutation W($id: UUID!, $name: String) { updateProfile(id: $id, input: { firstName: $name }) "
        "{ profile { id firstName } userErrors { code } } }")
THEIRS = ("mutation W($id: UUID!, $name: String) { updateProfileByRowId(input: { rowId: $id, "
          "profilePatch: { firstName: $name } }) { profile { rowId firstName } } }")
NAMES = ("Alma", "Bruno")


def bodies(work, query, ids):
    """500 ids, each with the first name, then each with the second: every request
    changes the name the previous round gave."""
    path = os.path.join(work, "bodies.ndjson")
    with open(path, "w") as out:
        for name in NAMES:
            for id_ in ids:
                out.write(json.dumps({"query": query, "variables": {"id": id_, "name": name}}) + "\n")
    return path


def first_name(answer):
    data = answer.get("data") or {}
    payload = data.get("updateProfile") or data.get("updateProfileByRowId") or {}
    return (payload.get("profile") or {}).get("firstName")


def statements_per_write(server, query, ids, pg_log, database, admin_url, tag):
    """Statements per write from PostgreSQL's log, `log_statement = all` set on the
    database for the server's fresh connections. 20 profiles are changed twice, with
    names no other count used (`tag`); the log's lines are counted for the second
    change, which is the steady state (a profile's first change after it was seeded
    also settles its created event)."""
    psql(admin_url, f'ALTER DATABASE "{database}" SET log_statement = \'all\'')
    try:
        server.start()
        for id_ in ids[10:30]:
            post(server.url, query, {"id": id_, "name": f"First{tag}"})
        time.sleep(0.5)
        start = os.path.getsize(pg_log)
        for id_ in ids[10:30]:
            post(server.url, query, {"id": id_, "name": f"Second{tag}"})
        time.sleep(1)
        with open(pg_log, "rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
    finally:
        server.stop()
        psql(admin_url, f'ALTER DATABASE "{database}" RESET log_statement')
    found = [line for line in text.splitlines() if "LOG:  statement:" in line or "LOG:  execute" in line]
    return len(found) / 20, found[: len(found) // 20 + 1]


def receiver(node):
    """The local webhook receiver (bench/receiver.mjs), and the port it listens on."""
    process = subprocess.Popen([node, os.path.join(os.path.dirname(os.path.abspath(__file__)), "receiver.mjs")],
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    return process, int(process.stdout.readline())


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--admin-url", required=True)
    args.add_argument("--database", required=True, help="a database seeded with our `seed`")
    args.add_argument("--ours", required=True, help="our release binary")
    args.add_argument("--ours-no-events", required=True, help="our release binary built without change events")
    args.add_argument("--before", help="optional: another build of ours to load alike (events, no webhook)")
    args.add_argument("--node", required=True)
    args.add_argument("--postgraphile", required=True, help="PostGraphile's cli-run.js")
    args.add_argument("--seconds", type=int, default=12)
    args.add_argument("--warmup", type=int, default=3)
    args.add_argument("--connections", type=int, default=16)
    args.add_argument("--rounds", type=int, default=2)
    args.add_argument("--pg-log", required=True)
    o = args.parse_args()

    work = tempfile.mkdtemp(prefix="bench-writes-")
    base = o.admin_url.rsplit("/", 1)[0]
    url = f"{base}/{o.database}?sslmode=disable"
    db_url = f"{base}/{o.database}"
    ids = psql(db_url, "SELECT id FROM profile WHERE profile_type <> 'DELETED' ORDER BY md5(id::text) LIMIT 500").split()
    hook_receiver, receiver_port = receiver(o.node)

    def ours(name, binary, port):
        return Server(name, [binary], {
            "DATABASE_URL": url, "PROFILES_LISTEN": f"127.0.0.1:{port}", "PROFILES_AUTH": "off", "RUST_LOG": "warn",
            "PROFILES_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1", "PROFILES_WEBHOOK_POLL": "1s",
            # As on a database this release created, whenever bench_writes was made
            # (`auto` leaves them off on one upgraded from 0.1.0).
            "PROFILES_ONE_STATEMENT_WRITES": "on",
        }, f"http://127.0.0.1:{port}/graphql", os.path.join(work, f"{name}.log"))

    theirs = Server("PostGraphile", [o.node, o.postgraphile, "-P", "postgraphile/presets/amber", "-c", url,
                                     "-s", "public", "-p", "18781"], {"GRAPHILE_ENV": "production"},
                    "http://127.0.0.1:18781/graphql", os.path.join(work, "theirs.log"))
    events = ours("events, no webhook", o.ours, 18782)
    webhook = ours("events, one webhook delivering", o.ours, 18783)
    no_events = ours("no events (reference)", o.ours_no_events, 18784)
    runs = [(theirs, THEIRS, None), (events, OURS, None), (webhook, OURS, "webhook"), (no_events, OURS, None)]
    if o.before:
        runs.append((ours("events, the build given as --before", o.before, 18785), OURS, None))

    def set_webhook(on):
        psql(db_url, "DELETE FROM webhook_delivery; DELETE FROM webhook")
        if on:
            events.start()
            try:
                answer = post(events.url, "mutation($i: WebhookInput!) { createWebhook(input: $i) "
                              "{ webhook { id } userErrors { code message } } }",
                              {"i": {"url": f"http://127.0.0.1:{receiver_port}/hook", "events": ["*"]}})
                assert answer["data"]["createWebhook"]["webhook"], answer
            finally:
                events.stop()

    set_webhook(False)
    # Same answers first: each sets a name and answers it.
    for server, query, _ in runs:
        server.start()
        try:
            for n, id_ in enumerate(ids[:4]):
                answer = post(server.url, query, {"id": id_, "name": NAMES[n % 2]})
                if first_name(answer) != NAMES[n % 2]:
                    sys.exit(f"{server.name} answered {answer}")
        finally:
            server.stop()

    statements = {}
    for tag, (server, query, _) in enumerate(runs):
        statements[server.name], sample = statements_per_write(server, query, ids, o.pg_log, o.database, o.admin_url,
                                                               tag)
        with open(os.path.join(work, f"statements-{server.name}.txt"), "w") as out:
            out.write("\n".join(sample))

    rows = []
    for round_ in range(1, o.rounds + 1):
        for server, query, hook in runs:
            set_webhook(hook == "webhook")
            psql(db_url, "VACUUM ANALYZE profile, profile_event")
            server.start()
            try:
                path = bodies(work, query, ids)
                load("wrk", server.url, path, o.warmup, o.connections, work)
                cpu, pg_cpu = server.cpu_seconds(), postgres_cpu_seconds()
                rate, p50, p99, errors, requests = load("wrk", server.url, path, o.seconds, o.connections, work)
                cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(requests, 1)
                pg_ms = (postgres_cpu_seconds() - pg_cpu) * 1000 / max(requests, 1)
                delivered = None
                if hook:
                    delivered = psql(db_url, "SELECT count(*) FILTER (WHERE status = 'DELIVERED') || ' of ' || "
                                             "count(*) FROM webhook_delivery")
            finally:
                server.stop()
            rows.append((server.name, round_, rate, p50, p99, errors, cpu_ms, pg_ms, statements[server.name],
                         delivered))
            print(format_row(rows[-1], rows), flush=True)
    set_webhook(False)
    hook_receiver.terminate()
    print()
    print(HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(format_row(row, rows))
    shutil.rmtree(work, ignore_errors=True)


HEADER = ("| server | round | req/s | × PostGraphile | p50 ms | p99 ms | errors | server CPU ms/req "
          "| PostgreSQL CPU ms/req | statements/write | webhook deliveries done |")


def format_row(row, rows):
    name, round_, rate, p50, p99, errors, cpu_ms, pg_ms, statements, delivered = row
    theirs = next((r[2] for r in rows if r[0] == "PostGraphile" and r[1] == round_), None)
    ratio = f"{rate / theirs:.2f}×" if theirs else "–"
    return (f"| {name} | {round_} | {rate:,.0f} | {ratio} | {p50:.1f} | {p99:.1f} | {errors} | {cpu_ms:.3f} "
            f"| {pg_ms:.3f} | {statements:.1f} | {delivered or '–'} |")


if __name__ == "__main__":
    main()
