"""Where one payout dispatch spends its time: `python -m bench.dispatch_profile`.

Runs `payouts.dispatch.dispatch_payout` in this process (no Celery) on approved
withdrawals of the bench tenant, against the in-process sandbox PSP, and reports per
stage the mean milliseconds, SQL statements and transactions of one dispatch. Each stage
is a function of the dispatch path, timed where it is called; what no stage covers
(loading rows, Python between the calls) is "the rest".

Two passes: with the database connection closed before every dispatch (what Celery's
Django fixup does to a worker by default: a new connection per task) and with the
connection kept (CONN_MAX_AGE). Then two with the sandbox PSP as its own HTTP service:
a new HTTP connection per PSP call, and the kept-alive one (BENCH_PROFILE_HTTP=0 skips
them). The Celery side (receive, run, acknowledge) is what the no-op task costs in
`bench.celery_throughput`, not measured here.

Uses the bench database (BENCH_DATABASE_URL), recreated. BENCH_PROFILE_PAYOUTS (default
300) dispatches per pass.
"""

import os
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager

from bench.common import BENCH_DATABASE_URL, recreate_database, use_bench_database

PAYOUTS = int(os.environ.get("BENCH_PROFILE_PAYOUTS", "300"))

# (label, "module:attribute" or "module:Class.method"); stages missing in the code are skipped.
STAGES = [
    ("claim: open the attempt (start_payout)", "wallet.services:start_payout"),
    ("claim: open and mark sent (claim_payout)", "wallet.services:claim_payout"),
    ("mark sending (mark_payout_sending)", "wallet.services:mark_payout_sending"),
    ("PSP call (sandbox create_payout)", "payouts.providers.sandbox:SandboxProvider.create_payout"),
    ("record the answer (mark_payout_accepted)", "wallet.services:mark_payout_accepted"),
    ("provider adapter (provider_for)", "payouts.dispatch:provider_for"),
]


class Counter:
    """SQL statements and transactions on the default connection, charged to the innermost open stage."""

    def __init__(self):
        self.ms = defaultdict(float)
        self.queries = defaultdict(int)
        self.transactions = defaultdict(int)
        self.stack = ["the rest (loading rows, Python)"]  # statements outside every stage

    def execute(self, execute, sql, params, many, context):
        from django.db import connection

        self.queries[self.stack[-1]] += 1
        if not connection.in_atomic_block:
            self.transactions[self.stack[-1]] += 1  # autocommit: the statement is its own transaction
        return execute(sql, params, many, context)

    def commit(self, original):
        def counted():
            self.transactions[self.stack[-1]] += 1
            return original()

        return counted

    def wrap(self, label, function):
        def timed(*args, **kwargs):
            self.stack.append(label)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                self.stack.pop()
                self.ms[label] += elapsed
                if len(self.stack) > 1:  # an enclosing stage does not count its inner stage twice
                    self.ms[self.stack[-1]] -= elapsed

        return timed


@contextmanager
def instrumented(counter: Counter):
    import importlib

    from django.db import connection

    patched = []
    for label, target in STAGES:
        module_name, _, attribute = target.partition(":")
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if original is None:
            continue
        setattr(owner, name, counter.wrap(label, original))
        patched.append((owner, name, original))
    connection.ensure_connection()
    original_commit = connection.commit
    connection.commit = counter.commit(original_commit)
    try:
        with connection.execute_wrapper(counter.execute):
            yield
    finally:
        connection.commit = original_commit
        for owner, name, original in patched:
            setattr(owner, name, original)


REST = "the rest (loading rows, Python)"


def profile(
    withdrawal_ids: list[str], *, fresh_connection: bool, new_psp_connection: bool = False
) -> tuple[Counter, list[float]]:
    """The counter (with each stage's time per dispatch in `samples`) and each dispatch's total ms."""
    from django.db import connection

    from payouts.dispatch import dispatch_payout
    from payouts.providers import keepalive

    counter = Counter()
    counter.samples = defaultdict(list)
    totals = []
    for pk in withdrawal_ids:
        if fresh_connection:
            connection.close()
        if new_psp_connection:
            keepalive.close_all()  # as before keepalive.py: a new HTTP connection per PSP call
        before = dict(counter.ms)
        started = time.perf_counter()
        if fresh_connection:
            connection.ensure_connection()
            counter.ms["open a database connection"] += (time.perf_counter() - started) * 1000
        with instrumented(counter):
            outcome = dispatch_payout(pk)
            totals.append((time.perf_counter() - started) * 1000)
        assert outcome in ("accepted, outcome to follow", "paid"), outcome
        spent = {label: ms - before.get(label, 0.0) for label, ms in counter.ms.items() if label != REST}
        for label, ms in spent.items():
            counter.samples[label].append(ms)
        counter.samples[REST].append(totals[-1] - sum(spent.values()))
    return counter, totals


def table(passes: list[tuple[str, Counter, list[float]]], n: int) -> list[str]:
    """Median milliseconds per stage (a loaded machine's outliers aside), mean statements and transactions."""
    labels = []
    for _name, counter, _totals in passes:
        labels += [label for label in counter.samples if label not in labels and label != REST]
    labels.append(REST)
    head = "| stage | " + " | ".join(f"{name}: ms | queries | transactions" for name, _c, _t in passes) + " |"
    lines = [head, "|---|" + "---|---|---|" * len(passes)]
    for label in labels:
        cells = []
        for _name, counter, _totals in passes:
            if label in counter.samples:
                cells += [f"{statistics.median(counter.samples[label]):.2f}", f"{counter.queries[label] / n:.1f}"]
                cells.append(f"{counter.transactions[label] / n:.1f}")
            else:
                cells += ["", "", ""]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for _name, counter, totals in passes:
        cells += [
            f"**{statistics.median(totals):.2f}**",
            f"**{sum(counter.queries.values()) / n:.1f}**",
            f"**{sum(counter.transactions.values()) / n:.1f}**",
        ]
    lines.append("| **one dispatch** | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    os.environ.setdefault("BENCH_WEBHOOK_EVENTS", "0")
    from bench import celery_throughput, service_level, webhooks

    use_bench_database()
    recreate_database(BENCH_DATABASE_URL.rsplit("/", 1)[1])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    service_level.prepare(1)
    webhooks.prepare(1)
    os.environ["BENCH_PAYOUTS"] = str(PAYOUTS)
    celery_throughput.PAYOUTS = PAYOUTS
    warm = celery_throughput.prepare()[:20]
    profile(warm, fresh_connection=False)  # imports, statement caches
    fresh_ids, kept_ids = celery_throughput.prepare(), celery_throughput.prepare()
    fresh = profile(fresh_ids, fresh_connection=True)
    kept = profile(kept_ids, fresh_connection=False)
    lines = table([("new connection per task", *fresh), ("connection kept", *kept)], PAYOUTS)
    print("In-process sandbox PSP (as `make bench`):")
    print("\n".join(lines))
    if os.environ.get("BENCH_PROFILE_HTTP", "1") == "1":
        per_call_ids, kept_http_ids = celery_throughput.prepare(), celery_throughput.prepare()
        with sandbox_service():
            per_call = profile(per_call_ids, fresh_connection=False, new_psp_connection=True)
            kept_http = profile(kept_http_ids, fresh_connection=False)
        lines = table([("new HTTP connection per call", *per_call), ("HTTP connection kept", *kept_http)], PAYOUTS)
        print("\nThe sandbox PSP as its own HTTP service (as `make run`), database connection kept:")
        print("\n".join(lines))
    return 0


@contextmanager
def sandbox_service():
    """The sandbox PSP service on a free port, the bench tenant's account pointed at it."""
    import socket
    import subprocess

    from payouts.models import ProviderAccount

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.sandbox_settings",
        "DJANGO_SSL_REDIRECT": "0",  # plain HTTP on the loopback, as behind a TLS proxy
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "manage.py", "run_sandbox_psp", "--port", str(port)]
    service = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or service.poll() is not None:
                    raise RuntimeError("the sandbox PSP service did not start") from None
                time.sleep(0.2)
        ProviderAccount.objects.filter(tenant__slug="bench").update(base_url=f"http://127.0.0.1:{port}")
        yield
    finally:
        ProviderAccount.objects.filter(tenant__slug="bench").update(base_url="")
        service.terminate()
        service.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
