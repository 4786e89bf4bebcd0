"""Shared helpers for the benchmarks: a dedicated database, client processes, results."""

import multiprocessing
import os
import resource
import statistics
import subprocess
import time

BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/casino_payments_bench")
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = [int(c) for c in os.environ.get("BENCH_CLIENTS", "1,4,16").split(",")]


def children_cpu_seconds() -> float:
    """User and system CPU time of this process's waited-for children (pgbench, wrk) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (state, ppid, pgrp, ...), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def pid_cpu_seconds(pid) -> float:
    """CPU time (user + system) of one process of this machine, 0 if it is gone."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK if fields else 0.0


def backend_cpu_seconds() -> float:
    """CPU time of the PostgreSQL backend serving this process's Django connection (same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return pid_cpu_seconds(cursor.fetchone()[0])


def use_bench_database() -> None:
    """Point Django at the benchmark database before django.setup()."""
    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", db, "-Atc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def recreate_database(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


class Result:
    """Operations per second and latency of one benchmark at one client count.

    Latencies come as samples, or as (p50, p99) from a load generator that keeps its own
    histogram (wrk). client_cpu: the load generator's CPU time per second of the run (1.0 is
    one core busy), where it runs apart from what is measured (pgbench, the HTTP client).
    """

    def __init__(
        self,
        name: str,
        clients: int,
        operations: int,
        seconds: float,
        latencies_ms: list[float],
        *,
        percentiles_ms: tuple[float, float] | None = None,
        client_cpu: float | None = None,
    ):
        self.name, self.clients, self.operations, self.seconds = name, clients, operations, seconds
        self.latencies_ms = latencies_ms
        self.percentiles_ms = percentiles_ms
        self.client_cpu = client_cpu
        self.cpu_seconds: dict[str, float] = {}  # where measured: the application's, PostgreSQL's, the client's
        self.failures = 0

    def cpu_ms_per_operation(self) -> dict[str, float]:
        done = max(self.operations, 1)
        return {part: seconds * 1000 / done for part, seconds in self.cpu_seconds.items()}

    @property
    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        if self.percentiles_ms:
            return self.percentiles_ms[0]
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        if self.percentiles_ms:
            return self.percentiles_ms[1]
        return percentile(self.latencies_ms, 99)

    @property
    def client_cpu_text(self) -> str:
        return "" if self.client_cpu is None else f"{self.client_cpu * 100:.0f}%"

    def row(self) -> str:
        return (
            f"{self.name:<44} {self.clients:>7} {self.rate:>10.1f} {self.p50:>9.2f} {self.p99:>9.2f}"
            f" {self.client_cpu_text:>11}"
        )

    def markdown(self) -> str:
        return (
            f"| {self.name} | {self.clients} | {self.rate:.0f} | {self.p50:.2f} | {self.p99:.2f} "
            f"| {self.client_cpu_text} |"
        )


HEADER = f"{'benchmark':<44} {'clients':>7} {'ops/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'client CPU':>11}"
MARKDOWN_HEADER = ["| benchmark | clients | ops/s | p50 ms | p99 ms | client CPU |", "|---|---|---|---|---|---|"]


def run_client_processes(
    target, per_client_args: list[tuple], seconds: float, name: str, extra: list | None = None
) -> Result:
    """Start one process per client; each runs target(*args, start_at, seconds, queue) and
    puts (latencies_ms, failures) on the queue, or (latencies_ms, failures, something) whose
    third items are collected into `extra`. The clock starts for all at once."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 2 + 0.15 * len(per_client_args)  # time for every process to start
    procs = [ctx.Process(target=target, args=(*args, start_at, seconds, results)) for args in per_client_args]
    for proc in procs:
        proc.start()
    latencies, failures = [], 0
    for _ in procs:
        got, failed, *more = results.get()
        if extra is not None:
            extra.extend(more)
        latencies.extend(got)
        failures += failed
    for proc in procs:
        proc.join()
    result = Result(name, len(procs), len(latencies) - failures, seconds, latencies)
    result.failures = failures
    return result


def wait_until(start_at: float) -> None:
    while time.time() < start_at:
        time.sleep(0.001)
