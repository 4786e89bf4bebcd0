"""Shared helpers for the benchmarks: a dedicated database, timing and printing."""

import os
import statistics
import subprocess
import time

BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/casino_payments_bench")
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = [int(c) for c in os.environ.get("BENCH_CLIENTS", "1,4").split(",")]


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
    """Operations per second and latency of one benchmark at one client count."""

    def __init__(self, name: str, clients: int, operations: int, seconds: float, latencies_ms: list[float]):
        self.name, self.clients, self.operations, self.seconds = name, clients, operations, seconds
        self.latencies_ms = latencies_ms

    @property
    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    def row(self) -> str:
        return f"{self.name:<34} {self.clients:>7} {self.rate:>10.1f} {self.p50:>9.2f} {self.p99:>9.2f}"


HEADER = f"{'benchmark':<34} {'clients':>7} {'ops/s':>10} {'p50 ms':>9} {'p99 ms':>9}"


def timed(fn) -> tuple[float, float]:
    start = time.perf_counter()
    fn()
    return start, (time.perf_counter() - start) * 1000
