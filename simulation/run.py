"""One simulation run, start to end: environment, world, clients with chaos, drain, invariants."""

import atexit
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import schedule as schedule_module
from .environment import REPO, Environment, Settings
from .stats import Stats

LATE_REPLAYS = 1000  # money requests sent once more after the drain: each must replay its stored answer


@dataclass
class Options:
    seed: int
    operations: int = 10_000
    clients: int = 16
    keep: bool = False
    database: str = ""
    drain_seconds: float = 240.0
    report_json: str = ""
    chaos: bool = True
    webhook_senders: int = 4
    focus: str = "default"


def out(line: str = "") -> None:
    print(line, flush=True)


def _raise_on_term(signum, frame):
    out(f"Stopped by signal {signum}: stopping the processes and dropping the database")
    raise SystemExit(128 + signum)


def run(options: Options) -> int:
    seed = options.seed
    plan = schedule_module.build(seed, options.operations, options.clients)
    database = options.database or f"sim_{seed}"
    run_dir = REPO / "var" / "sim" / database
    focus = "" if options.focus == "default" else f" --focus {options.focus}"
    out(f"Simulation seed {seed}  (replay: make sim SEED={seed}, or python -m simulation --seed {seed}{focus})")
    out(
        f"Schedule: {options.operations} operations over {options.clients} clients, "
        f"digest {schedule_module.digest(plan)}; database {database}; logs in {run_dir}"
    )
    env = Environment(seed=seed, database=database, run_dir=run_dir, settings=Settings())
    stats = Stats()
    atexit.register(env.stop)
    previous = signal.signal(signal.SIGTERM, _raise_on_term)
    report: dict = {"seed": seed, "operations_planned": options.operations, "clients": options.clients}
    failed = True
    try:
        failed = _run(options, plan, env, stats, report)
    finally:
        signal.signal(signal.SIGTERM, previous)
        env.stop()
        _close_django()
        removed = env.clean_redis(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        if options.keep:
            out(f"Kept database {database} and logs in {run_dir}")
        else:
            env.drop_database()
            if not failed:
                shutil.rmtree(run_dir, ignore_errors=True)
        report["redis_keys_removed"] = removed
        if options.report_json:
            Path(options.report_json).write_text(json.dumps(report, indent=2, default=str))
    return 1 if failed else 0


def _close_django() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def _run(options: Options, plan, env: Environment, stats: Stats, report: dict) -> bool:
    seed = options.seed
    began = time.monotonic()
    env.create_database()
    env.configure_this_process()
    import django

    django.setup()
    from django.core.management import call_command

    import config.celery  # noqa: F401 - the app that sends to the run's queue

    from . import chaos as chaos_module
    from . import readback
    from . import report as report_module
    from .client import Api, Client, replay_later
    from .drain import Drain
    from .invariants import run_checks
    from .senders import WebhookSenders
    from .setup import create_world

    call_command("migrate", interactive=False, verbosity=0)
    world = create_world(seed=seed, web_url=env.web_url, psp_url=env.psp_url)
    env.start_web()
    env.start_psp()
    env.start_worker()
    env.wait_ready()
    merchants = chaos_module.merchants_of_run()
    senders = WebhookSenders(options.webhook_senders)
    senders.start()
    out(f"Ready in {time.monotonic() - began:.1f} s: web {env.web_url}, PSP {env.psp_url}, queue {env.queue}")

    stop = threading.Event()
    clients = [Client(world, ops, stats, stop) for ops in plan]
    total = max(1, sum(len(ops) for ops in plan))
    chaos = chaos_module.Chaos(
        seed=seed,
        env=env,
        stats=stats,
        merchants=merchants,
        progress=lambda: sum(c.done for c in clients) / total,
        kill_connections=options.chaos,
        kill_workers=options.chaos,
        profile=chaos_module.PROFILES[options.focus],
    )
    threads = [threading.Thread(target=c.run, name=f"client-{n}", daemon=True) for n, c in enumerate(clients)]
    started = time.monotonic()
    chaos.start()
    try:
        for thread in threads:
            thread.start()
        _wait_with_progress(threads, clients, total, started)
    finally:
        stop.set()
        chaos.stop()
    client_seconds = time.monotonic() - started
    if chaos.error is not None:
        stats.violation("simulation_error", f"chaos thread failed: {chaos.error!r}")
    out(f"Clients done in {client_seconds:.1f} s; draining")

    drain = Drain(seed=seed, env=env, world=world, stats=stats, merchants=merchants, deadline=options.drain_seconds)
    try:
        drained = drain.run()
    finally:
        senders.stop()
    kept = [answered for client in clients for answered in client.answered]
    sample = random.Random(f"simulation:{seed}:replay-later").sample(kept, min(len(kept), LATE_REPLAYS))
    replay_later(Api(world, stats, retry_window=30), sample, stats)
    report["api_rows_compared"] = readback.check(world, stats)
    found, census = run_checks()
    for check_name, rows in found.items():
        for row in rows:
            stats.violation(check_name, " | ".join(str(value) for value in row))
    report.update(
        stats.as_dict(),
        client_seconds=round(client_seconds, 1),
        throughput=round(stats.operations / client_seconds, 1) if client_seconds else 0,
        drain_seconds=round(drained.seconds, 1),
        drain_actions=dict(drained.actions),
        webhooks_by_extra_senders=senders.delivered,
        census={name: [list(row) for row in rows] for name, rows in census.items()},
        total_seconds=round(time.monotonic() - began, 1),
    )
    report_module.print_report(report, found)
    return stats.violation_total > 0


def _wait_with_progress(threads, clients, total: int, started: float) -> None:
    last = started
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.5)
        now = time.monotonic()
        if now - last >= 15:
            last = now
            done = sum(c.done for c in clients)
            out(f"  {done}/{total} operations, {done / (now - started):.1f}/s")
