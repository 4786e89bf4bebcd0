"""pgbench TPC-B on this machine's PostgreSQL: the ceiling our services are measured against."""

import glob
import os
import re
import subprocess
import tempfile

from bench.common import DURATION, PG, Result, recreate_database

DATABASE = "bench_pgbench"


def prepare(scale: int) -> None:
    recreate_database(DATABASE)
    subprocess.run(
        ["pgbench", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-i", "-q", "-s", str(scale), DATABASE],
        check=True,
        capture_output=True,
        text=True,
    )


def run(clients: int) -> Result:
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
    tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out).group(1))
    operations = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    return Result("pgbench TPC-B", clients, operations, operations / tps if tps else 0.0, latencies)
