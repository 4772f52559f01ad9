#!/usr/bin/env python3
"""Side-by-side read benchmark: profiles-gateway against PostGraphile 5 on one database.

Run by bench/run.sh, which builds, installs and seeds first. For each query it
checks that both servers give the same data (normalised), then loads each server in
turn with the same generator and prints one table: req/s, p50, p99, errors, peak
RSS (VmHWM), server CPU per request, SQL statements per request, our/their ratio.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# ---------------------------------------------------------------- the queries
# Fields both APIs have, ours first; the helpers below write each query twice.
FEW = {
    "profile": "firstName lastName email",
    "addresses": "city postcode isDefault",
    "identities": "handle identifier",
    "comms": "emailPromo smsPromo emailOptout",
}
PROFILE_ALL = (
    "title firstName lastName email gender currency joinedAt mobilePhone secondaryPhone birthYear birthMonth "
    "birthDay company occupation avatarUrl preferredLocationId joinedLocationId tierHandle profileType "
    "customAttributes version createdAt updatedAt"
)
CHANNELS = ["email", "sms", "push", "phone", "post"]
FLAGS = ["Optout", "Bounced", "Promo", "Discover", "Benefits", "Reminders", "Account", "Bookings", "Feedback",
         "Location", "Service"]
COMMS_ALL = " ".join(c + f for c in CHANNELS for f in FLAGS) + (
    " emailVerification smsVerification phoneVerification postVerification termsAcceptedAt termsAcceptedVersion"
    " createdAt updatedAt")
APPEARANCE_ALL = (
    "hairColour hairLength shapeBody shapeFace sizeCup sizeHat sizeFormalJacket sizeFormalJacketLength "
    "sizeFormalShirt sizeFormalShirtFit sizeFormalTrouser sizeFormalTrouserDrop sizeFormalTrouserLeg sizeJacket "
    "sizePant sizeShoe sizeTypeAge sizeTypeRegion sizeTop skinType measurementArm measurementArmInside "
    "measurementBust measurementChest measurementFootLength measurementHead measurementHeight measurementHip "
    "measurementLegInside measurementLegOutside measurementNeck measurementNeckToWrist measurementShoulders "
    "measurementWaist measurementWeight createdAt updatedAt")
ALL = {
    "profile": PROFILE_ALL,
    "addresses": "ID addressLine1 addressLine2 addressLine3 company latitude longitude city postcode state country "
                 "notes externalId isDefault createdAt updatedAt",
    "identities": "ID handle identifier isPrimary isActive createdAt updatedAt",
    "tags": "ID handle name createdAt updatedAt",
    "statuses": "ID handle name rank createdAt updatedAt",
    "comms": COMMS_ALL,
    "appearance": APPEARANCE_ALL,
    "dates": "ID date isRecurring recurringSchedule name handle relationship description meta note createdAt updatedAt",
    "tier": "ID handle name rank createdAt updatedAt",
    "location": "ID name externalId externalCode createdAt updatedAt",
}


def ours_fields(f):
    """The selection of a profile in our schema; `ID` stands for the id field."""
    def x(key):
        return f[key].replace("ID", "id")
    parts = ["id", f["profile"], f"addresses {{ {x('addresses')} }}", f"identities {{ {x('identities')} }}"]
    parts.append(f"tags {{ {x('tags')} }}" if "tags" in f else "tags { handle }")
    parts.append(f"statuses {{ {x('statuses')} }}" if "statuses" in f else "statuses { handle }")
    attributes = [f"comms {{ {x('comms')} }}"]
    if "appearance" in f:
        attributes += [f"appearance {{ {x('appearance')} }}", f"dates {{ {x('dates')} }}"]
        parts += [f"tier {{ {x('tier')} }}", f"preferredLocation {{ {x('location')} }}",
                  f"joinedLocation {{ {x('location')} }}"]
    parts.append(f"attributes {{ {' '.join(attributes)} }}")
    return " ".join(parts)


def theirs_fields(f):
    """The same selection in PostGraphile's generated schema."""
    def x(key):
        return f[key].replace("ID", "rowId")
    parts = ["rowId", f["profile"], f"addressesByProfileId {{ nodes {{ {x('addresses')} }} }}",
             f"identitiesByProfileId {{ nodes {{ {x('identities')} }} }}"]
    tags = x("tags") if "tags" in f else "handle"
    statuses = x("statuses") if "statuses" in f else "handle"
    parts.append(f"profileTagsByProfileId {{ nodes {{ tagByTagId {{ {tags} }} }} }}")
    parts.append(f"profileStatusesByProfileId {{ nodes {{ statusByStatusId {{ {statuses} }} }} }}")
    parts.append(f"commByProfileId {{ {x('comms')} }}")
    if "appearance" in f:
        parts += [f"appearanceByProfileId {{ {x('appearance')} }}",
                  f"profileDatesByProfileId {{ nodes {{ {x('dates')} }} }}",
                  f"tierByTierHandle {{ {x('tier')} }}",
                  f"locationByPreferredLocationId {{ {x('location')} }}",
                  f"locationByJoinedLocationId {{ {x('location')} }}"]
    return " ".join(parts)


def one(fields):
    return (f"query Q($id: UUID!) {{ profile(id: $id) {{ {ours_fields(fields)} }} }}",
            f"query Q($id: UUID!) {{ profileByRowId(rowId: $id) {{ {theirs_fields(fields)} }} }}")


def page(fields, size):
    return (f"query Q {{ profiles(first: {size}) {{ nodes {{ {ours_fields(fields)} }} }} }}",
            f"query Q {{ allProfiles(first: {size}, orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC]) "
            f"{{ nodes {{ {theirs_fields(fields)} }} }} }}")


def queries(database_size):
    """(name, database, (ours, theirs), takes an id) of every query of the run."""
    found = [
        ("Q1 profile(id), 5 relations", "small", one(FEW), True),
        ("Q2 page of 50, 5 relations", "small", page(FEW, 50), False),
        ("every field, page of 50", "small", page(ALL, 50), False),
        ("page of 10, 5 relations", "small", page(FEW, 10), False),
        ("page of 100, 5 relations", "small", page(FEW, 100), False),
        ("page of 250, 5 relations", "small", page(FEW, 250), False),
    ]
    if database_size:
        found += [
            (f"Q1 at {database_size // 1000}k profiles", "large", one(FEW), True),
            (f"Q2 at {database_size // 1000}k profiles", "large", page(FEW, 50), False),
        ]
    return found


# ----------------------------------------------------------- normalisation
RENAMES = {
    "rowId": "id",
    "profileByRowId": "profile",
    "allProfiles": "profiles",
    "addressesByProfileId": "addresses",
    "identitiesByProfileId": "identities",
    "profileTagsByProfileId": "tags",
    "profileStatusesByProfileId": "statuses",
    "commByProfileId": "comms",
    "appearanceByProfileId": "appearance",
    "profileDatesByProfileId": "dates",
    "tierByTierHandle": "tier",
    "locationByPreferredLocationId": "preferredLocation",
    "locationByJoinedLocationId": "joinedLocation",
}
ENUMS = {"gender", "profileType", "emailVerification", "smsVerification", "phoneVerification", "postVerification",
         "recurringSchedule"}
IDS = {"id", "preferredLocationId", "joinedLocationId"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def normalise(value, depth=0):
    """Connections to lists, join rows unwrapped, `attributes` flattened, nested
    lists sorted, times in UTC, ids as strings, enums in lower case."""
    if isinstance(value, dict):
        if set(value) == {"nodes"}:
            return normalise(value["nodes"], depth)
        if len(value) == 1 and next(iter(value)) in ("tagByTagId", "statusByStatusId"):
            return normalise(next(iter(value.values())), depth)
        out = {}
        for key, item in value.items():
            key = RENAMES.get(key, key)
            if key == "attributes" and isinstance(item, dict):
                out.update({k: normalise(v, depth + 1) for k, v in item.items()})
            elif key in IDS and item is not None:
                out[key] = str(item)
            elif key in ENUMS and isinstance(item, str):
                out[key] = item.lower()
            else:
                out[key] = normalise(item, depth + 1)
        return out
    if isinstance(value, list):
        items = [normalise(item, depth + 1) for item in value]
        # The page keeps its order; lists inside a profile are compared as sets.
        return items if depth <= 2 else sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    if isinstance(value, str) and TIME.match(value):
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")
    return value


# ---------------------------------------------------------------- servers
def post(url, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json", "accept": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


class Server:
    def __init__(self, name, command, env, url, log):
        self.name, self.command, self.env, self.url, self.log = name, command, env, url, log
        self.process = None

    def start(self):
        out = open(self.log, "ab")
        self.process = subprocess.Popen(self.command, env={**os.environ, **self.env}, stdout=out, stderr=out,
                                        cwd=ROOT, start_new_session=True)
        for _ in range(240):
            try:
                post(self.url, "{ __typename }")
                return self
            except Exception:
                if self.process.poll() is not None:
                    sys.exit(f"{self.name} exited; see {self.log}")
                time.sleep(0.25)
        sys.exit(f"{self.name} did not answer; see {self.log}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None

    def pid(self):
        """The process that serves (npm-free: node runs PostGraphile itself)."""
        return self.process.pid

    def cpu_seconds(self):
        with open(f"/proc/{self.pid()}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_peak_rss(self):
        with open(f"/proc/{self.pid()}/clear_refs", "w") as refs:
            refs.write("5")

    def peak_rss_mb(self):
        with open(f"/proc/{self.pid()}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")


# ------------------------------------------------------------------- load
WRK_SCRIPT = """
local bodies = {}
local i = 0
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["accept"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def bodies_file(work, query, ids):
    """One request body a line: the query with each id in turn, or alone."""
    path = os.path.join(work, "bodies.ndjson")
    with open(path, "w") as out:
        for id_ in ids or [None]:
            variables = {"id": id_} if id_ else {}
            out.write(json.dumps({"query": query, "variables": variables}) + "\n")
    return path


def load(tool, url, bodies, seconds, connections, work):
    """Loads `url` for `seconds`; returns req/s, p50 ms, p99 ms, errors, requests."""
    if tool == "wrk":
        script = os.path.join(work, "post.lua")
        with open(script, "w") as out:
            out.write(WRK_SCRIPT)
        run = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                             env={**os.environ, "BENCH_BODIES": bodies}, capture_output=True, text=True, check=True)
        text = run.stdout

        def ms(label):
            m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
            if not m:
                return float("nan")
            return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
        requests = int(re.search(r"(\d+) requests in", text).group(1))
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
        socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
        if socket:
            errors += sum(int(n) for n in socket.groups())
        return rate, ms("50"), ms("99"), errors, requests
    # oha: one body (the first) for every request.
    with open(bodies) as lines:
        body = lines.readline().strip()
    run = subprocess.run([tool, "--no-tui", "--output-format", "json", "-c", str(connections), "-z", f"{seconds}s",
                          "-m", "POST", "-H", "content-type: application/json", "-d", body, url],
                         capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    summary = report["summary"]
    codes = report.get("statusCodeDistribution", {})
    ok = sum(n for code, n in codes.items() if code.startswith("2"))
    errors = sum(codes.values()) - ok + sum(report.get("errorDistribution", {}).values())
    percentiles = report["latencyPercentiles"]
    return summary["requestsPerSec"], percentiles["p50"] * 1000, percentiles["p99"] * 1000, errors, sum(codes.values())


# -------------------------------------------------------------- statements
def postgres_cpu_seconds():
    """CPU time of every PostgreSQL process on this machine (server and backends)."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as status:
                if not any(line.startswith("Name:") and "postgres" in line for line in status):
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def psql(url, sql):
    return subprocess.run(["psql", url, "-Atqc", sql], capture_output=True, text=True, check=True).stdout.strip()


def count_statements(server, pg_log, database, query, ids, admin_url):
    """Statements per request, from PostgreSQL's log with log_statement = all on the
    database (set for the server's fresh connections only)."""
    psql(admin_url, f"ALTER DATABASE \"{database}\" SET log_statement = 'all'")
    try:
        server.start()
        for id_ in (ids or [None])[:5]:
            post(server.url, query, {"id": id_} if id_ else {})
        time.sleep(0.5)
        start = os.path.getsize(pg_log)
        sample = (ids or [None] * 20)[:20]
        for id_ in sample:
            post(server.url, query, {"id": id_} if id_ else {})
        time.sleep(1)
        with open(pg_log, "rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
        pattern = re.compile(rf"@{re.escape(database)} LOG:\s+(statement|execute [^:]*):")
        return len(pattern.findall(text)) / len(sample)
    finally:
        server.stop()
        psql(admin_url, f"ALTER DATABASE \"{database}\" RESET log_statement")


# ------------------------------------------------------------------- main
def main():
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--admin-url", required=True)
    args.add_argument("--small", required=True, help="database name, e.g. bench_10k")
    args.add_argument("--large", help="database name of the large database, if any")
    args.add_argument("--large-size", type=int, default=0)
    args.add_argument("--ours", required=True, help="our release binary")
    args.add_argument("--node", required=True)
    args.add_argument("--postgraphile", required=True, help="PostGraphile's cli-run.js")
    args.add_argument("--tool", default="wrk")
    args.add_argument("--seconds", type=int, default=20)
    args.add_argument("--warmup", type=int, default=5)
    args.add_argument("--connections", type=int, default=16)
    args.add_argument("--rounds", type=int, default=2)
    args.add_argument("--pg-log", required=True)
    args.add_argument("--only", help="run only queries whose name contains this")
    o = args.parse_args()

    work = tempfile.mkdtemp(prefix="bench-")
    base = o.admin_url.rsplit("/", 1)[0]

    def servers(database):
        # Both servers connect alike: plain TCP on loopback, no TLS (ours would
        # negotiate TLS by default, PostGraphile's driver would not).
        url = f"{base}/{database}?sslmode=disable"
        ours = Server("profiles-gateway", [o.ours], {
            "DATABASE_URL": url, "PROFILES_LISTEN": "127.0.0.1:18700", "PROFILES_AUTH": "off", "RUST_LOG": "warn",
        }, "http://127.0.0.1:18700/graphql", os.path.join(work, "ours.log"))
        theirs = Server("PostGraphile", [o.node, o.postgraphile, "-P", "postgraphile/presets/amber", "-c", url,
                                         "-s", "public", "-p", "18701"], {"GRAPHILE_ENV": "production"},
                        "http://127.0.0.1:18701/graphql", os.path.join(work, "theirs.log"))
        return ours, theirs

    ids = {db: psql(f"{base}/{db}", "SELECT id FROM profile ORDER BY md5(id::text) LIMIT 200").split()
           for db in filter(None, [o.small, o.large])}
    rows = []
    for name, which, (our_query, their_query), takes_id in queries(o.large_size if o.large else 0):
        if o.only and o.only not in name:
            continue
        database = o.small if which == "small" else o.large
        ours, theirs = servers(database)
        id_list = ids[database] if takes_id else None
        # Same data from both, for a few ids.
        ours.start(), theirs.start()
        try:
            for id_ in (id_list or [None])[:10]:
                variables = {"id": id_} if id_ else {}
                a, b = post(ours.url, our_query, variables), post(theirs.url, their_query, variables)
                if "errors" in a or "errors" in b:
                    sys.exit(f"{name}: errors\nours: {a.get('errors')}\ntheirs: {b.get('errors')}")
                if normalise(a["data"]) != normalise(b["data"]):
                    with open(os.path.join(work, "ours.json"), "w") as f:
                        json.dump(normalise(a["data"]), f, indent=1, sort_keys=True)
                    with open(os.path.join(work, "theirs.json"), "w") as f:
                        json.dump(normalise(b["data"]), f, indent=1, sort_keys=True)
                    sys.exit(f"{name}: the answers differ; see diff {work}/ours.json {work}/theirs.json")
        finally:
            ours.stop(), theirs.stop()
        statements = {}
        for server, query in ((ours, our_query), (theirs, their_query)):
            statements[server.name] = count_statements(server, o.pg_log, database, query, id_list, o.admin_url)
        for round_ in range(1, o.rounds + 1):
            result = {}
            for server, query in ((ours, our_query), (theirs, their_query)):
                server.start()
                try:
                    bodies = bodies_file(work, query, id_list)
                    load(o.tool, server.url, bodies, o.warmup, o.connections, work)
                    server.reset_peak_rss()
                    cpu, pg_cpu = server.cpu_seconds(), postgres_cpu_seconds()
                    rate, p50, p99, errors, requests = load(o.tool, server.url, bodies, o.seconds, o.connections, work)
                    cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(requests, 1)
                    pg_ms = (postgres_cpu_seconds() - pg_cpu) * 1000 / max(requests, 1)
                    result[server.name] = (rate, p50, p99, errors, server.peak_rss_mb(), cpu_ms,
                                           statements[server.name], pg_ms)
                finally:
                    server.stop()
            rows.append((name, round_, result["profiles-gateway"], result["PostGraphile"]))
            print_row(rows[-1], flush=True)
    print()
    print_table(rows, o)
    shutil.rmtree(work, ignore_errors=True)


HEADER = ("| query | round | ours req/s | theirs req/s | ratio | ours p50 / p99 ms | theirs p50 / p99 ms "
          "| errors ours / theirs | peak RSS MB ours / theirs | server CPU ms/req ours / theirs "
          "| PostgreSQL CPU ms/req ours / theirs | SQL stmts/req ours / theirs |")


def format_row(row):
    name, round_, a, b = row
    return (f"| {name} | {round_} | {a[0]:,.0f} | {b[0]:,.0f} | **{a[0] / b[0]:.2f}×** | {a[1]:.1f} / {a[2]:.1f} "
            f"| {b[1]:.1f} / {b[2]:.1f} | {a[3]} / {b[3]} | {a[4]:.0f} / {b[4]:.0f} | {a[5]:.2f} / {b[5]:.2f} "
            f"| {a[7]:.2f} / {b[7]:.2f} | {a[6]:g} / {b[6]:g} |")


def print_row(row, flush=False):
    print(format_row(row), file=sys.stderr, flush=flush)


def print_table(rows, o):
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; "
          f"{o.tool} {o.connections} connections, {o.seconds} s after {o.warmup} s warm-up")
    print()
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    for row in rows:
        print(format_row(row))


if __name__ == "__main__":
    main()
