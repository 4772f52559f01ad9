#!/usr/bin/env python3
"""Import and export throughput, on SQLite and on PostgreSQL.

Writes ROWS profiles in the reference platform's profile JSON (numbers as strings,
"YYYY-MM-DD HH:MM:SS" times, 2 addresses, 3 tags, a status and an identity each) to
a file, then for each database, fresh:
  1. import the file (every row created),
  2. import it again (every row unchanged),
  3. export every profile to NDJSON,
and prints rows/s and peak RSS (GNU time's %M) of each, with the binary's own counts.

Usage: bench/import.py [ROWS] (default 100000), after `cargo build --release` (the
script runs target/release/profiles-gateway). Environment: BENCH_ADMIN_URL
(postgres://postgres@127.0.0.1:5432/postgres), BENCH_DIR (a temporary folder).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "profiles-gateway")
ADMIN = os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def row(n):
    return {
        "id": "00000000-0000-4000-a000-%012d" % n,
        "title": "Ms",
        "first_name": "First%d" % n,
        "last_name": "Import",
        "email": "import%d@example.com" % n,
        "gender": "female",
        "currency": "AUD",
        "joined_at": "2021-01-27 00:00:00",
        "mobile_phone": "+614%08d" % n,
        "birth_year": str(1950 + n % 50),
        "birth_month": str(1 + n % 12),
        "birth_day": str(1 + n % 28),
        "company": "Acme Shoe Co.",
        "addresses": [
            {"address_line_1": "%d Collins St" % n, "city": "Melbourne", "postcode": "3000", "state": "VIC",
             "country": "Australia", "is_default": True},
            {"address_line_1": "%d George St" % n, "city": "Sydney", "postcode": "2000", "state": "NSW",
             "country": "Australia", "is_default": False},
        ],
        "tags": [{"handle": "vip"}, {"handle": "newsletter"}, {"handle": "cohort-%d" % (n % 20)}],
        "statuses": [{"handle": "vip"}],
        "identities": [{"handle": "pos", "identifier": "POS-%d" % n, "is_primary": True, "is_active": True}],
        "attributes": {"comms": {"email_promo": "true", "sms_promo": "false"}},
        "custom_attributes": {"custom": {"store": str(n % 40)}},
    }


def run(args, database):
    """Runs the binary under GNU time; its stderr, seconds and peak RSS (MB)."""
    env = dict(os.environ, DATABASE_URL=database, RUST_LOG="warn")
    started = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-f", "RSS %M", BINARY] + args, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit("%s failed (%d):\n%s" % (" ".join(args), done.returncode, done.stderr))
    rss = int(re.search(r"RSS (\d+)", done.stderr).group(1)) / 1024
    return done.stderr, seconds, rss


def psql(sql):
    subprocess.run(["psql", ADMIN, "-q", "-c", sql], check=True, stdout=subprocess.DEVNULL)


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    folder = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="import-bench-")
    source = os.path.join(folder, "profiles.ndjson")
    with open(source, "w") as out:
        for n in range(rows):
            out.write(json.dumps(row(n)) + "\n")
    print("%d rows, %.0f MB of NDJSON" % (rows, os.path.getsize(source) / 1e6))

    base = ADMIN.rsplit("/", 1)[0]
    databases = [("SQLite", "sqlite://%s/import.db?mode=rwc" % folder, None),
                 ("PostgreSQL", base + "/bench_import", "bench_import")]
    print("| database | step | rows/s | seconds | peak RSS | outcome |")
    print("|---|---|---:|---:|---:|---|")
    for name, url, pg in databases:
        if pg:
            psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % pg)
            psql('CREATE DATABASE "%s"' % pg)
        else:
            # A fresh file, also when BENCH_DIR holds one from an earlier run.
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(os.path.join(folder, "import.db" + suffix)):
                    os.remove(os.path.join(folder, "import.db" + suffix))
        # The reference data rows name (status `vip`) is defined before an import.
        run(["seed", "--profiles", "0"], url)
        for step, args in [("import", ["import", source]), ("import again", ["import", source]),
                           ("export", ["export", os.path.join(folder, "exported.ndjson")])]:
            stderr, seconds, rss = run(args, url)
            outcome = next((line for line in stderr.splitlines() if line.startswith(("Imported", "Exported"))), "")
            outcome = re.sub(r" in [\d.]+ s.*", "", outcome)
            print("| %s | %s | %.0f | %.1f | %.0f MB | %s |" % (name, step, rows / seconds, seconds, rss, outcome))
        if pg:
            psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % pg)


if __name__ == "__main__":
    main()
