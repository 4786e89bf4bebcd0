"""pgbench TPC-B on this machine's PostgreSQL: the ceiling our services are measured against."""

import glob
import os
import re
import subprocess
import tempfile

from bench.common import BENCH_DATABASE_URL, DURATION, PG, Result, children_cpu_seconds, recreate_database

# Beside the bench database, so that benches of several checkouts on one machine stay apart.
DATABASE = os.environ.get("BENCH_PGBENCH_DATABASE", BENCH_DATABASE_URL.rsplit("/", 1)[1] + "_pgbench")


def prepare(scale: int) -> None:
    recreate_database(DATABASE)
    subprocess.run(
        ["pgbench", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-i", "-q", "-s", str(scale), DATABASE],
        check=True,
        capture_output=True,
        text=True,
    )


def run(clients: int) -> Result:
    cpu_before = children_cpu_seconds()
    with tempfile.TemporaryDirectory() as logs:
        out = subprocess.run(
            [
                "pgbench",
                "-h",
                PG["host"],
                "-p",
                PG["port"],
                "-U",
                PG["user"],
                "-c",
                str(clients),
                "-j",
                str(clients),
                "-T",
                str(int(DURATION)),
                "-l",
                DATABASE,
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=logs,
        ).stdout
        latencies = []
        for path in glob.glob(os.path.join(logs, "pgbench_log.*")):
            with open(path) as log:
                latencies.extend(int(line.split()[2]) / 1000 for line in log if line.strip())
    cpu = children_cpu_seconds() - cpu_before
    tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out).group(1))
    operations = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    seconds = operations / tps if tps else 0.0
    return Result("pgbench TPC-B", clients, operations, seconds, latencies, client_cpu=cpu / DURATION)
