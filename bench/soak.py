#!/usr/bin/env python3
"""Soak: mixed reads and writes against the release binary for a set time.

Starts `target/release/profiles-gateway` on a database of its own (a temporary SQLite
file, or a new PostgreSQL database when --postgres names a server), seeds it, warms
up, then loads it in two halves: first with nothing scraping /metrics, then with a
scraper every 5 s. Prints req/s, p50/p99 latency, errors, and the server's RSS after
warm-up and at the end of each half, plus one line a minute (with the SQLite file's
size, WAL included, which grows with the writes). Exits 1 on errors, a dead server, or
RSS still growing: more than 10 % over the second half.

    cargo build --release && python3 bench/soak.py --minutes 30 \
        --postgres postgres://postgres@127.0.0.1:5432/postgres

Only Python's standard library; traffic goes to 127.0.0.1 only, and every loop
stops when its time is up.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "profiles-gateway")

PAGE = """query Page($after: String) { profiles(first: 20, after: $after) { totalCount
  edges { cursor } nodes { id fullName email tags { handle } addresses { city } attributes { comms { emailPromo } } } } }"""
ONE = "query One($id: UUID!) { profile(id: $id) { id fullName nextBirthday identities { handle } statuses { handle } } }"
SEARCH = "query Search($s: String) { profiles(search: $s, first: 10) { nodes { id firstName } } }"
UPDATE = """mutation Update($id: UUID!, $n: String) { updateProfile(id: $id, input: { firstName: $n }) {
  profile { version } userErrors { code } } }"""
TAG = """mutation Tag($id: UUID!, $h: [String!]!) { addTags(profileId: $id, handles: $h) {
  profile { version } userErrors { code } } }"""
UNTAG = """mutation Untag($id: UUID!, $h: [String!]!) { removeTags(profileId: $id, handles: $h) {
  profile { version } userErrors { code } } }"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Client:
    """One keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, query, variables):
        body = json.dumps({"query": query, "variables": variables})
        try:
            self.conn.request("POST", "/graphql", body, {"content-type": "application/json"})
            response = self.conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            # The server may close an idle keep-alive connection: reconnect once.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("POST", "/graphql", body, {"content-type": "application/json"})
            response = self.conn.getresponse()
            return response.status, response.read()

    def get(self, path):
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        return response.status, response.read()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []
        self.errors = 0
        self.samples = []

    def record(self, seconds, ok, detail):
        with self.lock:
            self.latencies.append(seconds)
            if not ok:
                self.errors += 1
                if len(self.samples) < 5:
                    self.samples.append(detail[:300])

    def take(self):
        with self.lock:
            taken = (self.latencies, self.errors, self.samples)
            self.latencies, self.errors, self.samples = [], 0, []
            return taken


def worker(port, ids, stats, until, seed, write_share):
    rng = random.Random(seed)
    client = Client(port)
    while time.monotonic() < until:
        # Reads: 1/2 pages, 5/14 one profile, 1/7 searches; writes: 1/2 updates, the rest tags.
        pid = rng.choice(ids)
        if rng.random() >= write_share:
            roll = rng.random() * 0.7
        else:
            roll = 0.7 + rng.random() * 0.3
        if roll < 0.35:
            query, variables = PAGE, {"after": None}
        elif roll < 0.6:
            query, variables = ONE, {"id": pid}
        elif roll < 0.7:
            query, variables = SEARCH, {"s": rng.choice(["a", "jo", "04", "sa", "m"])}
        elif roll < 0.85:
            query, variables = UPDATE, {"id": pid, "n": f"Soak{rng.randrange(1000)}"}
        elif roll < 0.93:
            query, variables = TAG, {"id": pid, "h": [f"soak-{rng.randrange(20)}"]}
        else:
            query, variables = UNTAG, {"id": pid, "h": [f"soak-{rng.randrange(20)}"]}
        started = time.monotonic()
        try:
            status, body = client.post(query, variables)
            text = body.decode("utf-8", "replace")
            ok = status == 200 and '"errors"' not in text and '"userErrors":[{' not in text
        except Exception as error:  # noqa: BLE001 - any failure is an error of the run
            ok, text = False, repr(error)
        stats.record(time.monotonic() - started, ok, text)


def scraper(port, until, scrapes):
    client = Client(port)
    while time.monotonic() < until:
        status, body = client.get("/metrics")
        scrapes.append((status, len(body)))
        time.sleep(5)


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def database_mib(workdir):
    """The SQLite file and its WAL, in MiB (0 on PostgreSQL)."""
    return sum(os.path.getsize(os.path.join(workdir, name)) for name in os.listdir(workdir)
               if name.startswith("soak.db")) / 2**20


def phase(name, port, pid, ids, seconds, concurrency, metrics_port, minute_lines, workdir, write_share):
    """Load on `port` for `seconds`; with `metrics_port` (the metrics listener), also a scraper."""
    stats = Stats()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(port, ids, stats, until, n, write_share)) for n in range(concurrency)]
    scrapes = []
    if metrics_port:
        threads.append(threading.Thread(target=scraper, args=(metrics_port, until, scrapes)))
    for thread in threads:
        thread.start()
    all_latencies, all_errors, samples = [], 0, []
    started = last = time.monotonic()
    while any(thread.is_alive() for thread in threads):
        time.sleep(min(60, max(0.1, until - time.monotonic())) if minute_lines else 0.5)
        latencies, errors, sample = stats.take()
        all_latencies += latencies
        all_errors += errors
        samples += sample
        now = time.monotonic()
        # One line a minute; the last, partial interval goes into the totals only.
        if minute_lines and latencies and now - last >= 30:
            print(f"  {name} {now - started:6.0f} s  {len(latencies) / (now - last):7.0f} req/s"
                  f"  p99 {percentile(latencies, 0.99):6.1f} ms  errors {errors}  RSS {rss_kib(pid) / 1024:.1f} MiB"
                  f"  database {database_mib(workdir):.1f} MiB",
                  flush=True)
        last = now
    for thread in threads:
        thread.join()
    latencies, errors, sample = stats.take()
    all_latencies += latencies
    all_errors += errors
    samples += sample
    return {
        "name": name,
        "requests": len(all_latencies),
        "rps": len(all_latencies) / seconds,
        "p50": percentile(all_latencies, 0.5),
        "p99": percentile(all_latencies, 0.99),
        "errors": all_errors,
        "samples": samples,
        "rss_end": rss_kib(pid),
        "scrapes": len(scrapes),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="load time after warm-up (split in two halves)")
    parser.add_argument("--warmup", type=float, default=60.0, help="warm-up seconds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--write-share", type=float, default=0.3,
                        help="share of requests that write (0: reads only, which keeps SQLite's page caches warm)")
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a new database is made on it and dropped")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build it first: cargo build --release")

    workdir = tempfile.mkdtemp(prefix="pgw-soak-")
    dbname = None
    if args.postgres:
        dbname = f"pgw_soak_{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", args.postgres, "-qc", f'CREATE DATABASE "{dbname}"'], check=True)
        url = args.postgres.rsplit("/", 1)[0] + "/" + dbname
    else:
        url = f"sqlite://{workdir}/soak.db?mode=rwc"
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn")
    port = free_port()
    env["PROFILES_LISTEN"] = f"127.0.0.1:{port}"
    metrics_port = free_port()  # /metrics has a listener of its own
    env["PROFILES_METRICS_LISTEN"] = f"127.0.0.1:{metrics_port}"
    server = None
    try:
        subprocess.run([BINARY, "seed", "--profiles", str(args.profiles), "--seed", "42"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        server = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL, stderr=open(f"{workdir}/server.log", "w"))
        for _ in range(200):
            try:
                if Client(port).get("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, body = Client(port).post("{ profiles(first: 250) { nodes { id } } }", {})
        ids = [node["id"] for node in json.loads(body)["data"]["profiles"]["nodes"]]
        print(f"soak: {'PostgreSQL' if args.postgres else 'SQLite'}, {args.profiles} profiles, "
              f"{args.concurrency} clients, {args.write_share:.0%} writes, warm-up {args.warmup:.0f} s, then {args.minutes} min"
              f"{'' if args.postgres else ', PROFILES_SQLITE_CACHE_MIB=' + env.get('PROFILES_SQLITE_CACHE_MIB', '32 (default)')}",
              flush=True)
        warm = phase("warm-up", port, server.pid, ids, args.warmup, args.concurrency, None, False, workdir, args.write_share)
        rss_warm = rss_kib(server.pid)
        half = args.minutes * 30
        quiet = phase("no scraper", port, server.pid, ids, half, args.concurrency, None, True, workdir, args.write_share)
        scraped = phase("scraper", port, server.pid, ids, half, args.concurrency, metrics_port, True, workdir, args.write_share)
        alive = server.poll() is None
        print()
        print("| phase | requests | req/s | p50 ms | p99 ms | errors | RSS at end MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for result in (warm, quiet, scraped):
            print(f"| {result['name']} | {result['requests']} | {result['rps']:.0f} | {result['p50']:.1f} | "
                  f"{result['p99']:.1f} | {result['errors']} | {result['rss_end'] / 1024:.1f} |")
        growth = (scraped["rss_end"] - rss_warm) / rss_warm * 100
        second_half = (scraped["rss_end"] - quiet["rss_end"]) / quiet["rss_end"] * 100
        print(f"\nRSS after warm-up {rss_warm / 1024:.1f} MiB, half-way {quiet['rss_end'] / 1024:.1f} MiB, "
              f"at the end {scraped['rss_end'] / 1024:.1f} MiB ({growth:+.1f} % since warm-up, "
              f"{second_half:+.1f} % over the second half); database {database_mib(workdir):.1f} MiB; "
              f"server alive: {alive}; scrapes: {scraped['scrapes']}")
        for sample in warm["samples"] + quiet["samples"] + scraped["samples"]:
            print("error sample:", sample)
        errors = quiet["errors"] + scraped["errors"] + warm["errors"]
        return 0 if errors == 0 and alive and second_half <= 10 else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        if dbname:
            subprocess.run(["psql", args.postgres, "-qc", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'])
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
