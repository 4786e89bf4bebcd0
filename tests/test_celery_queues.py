"""Celery queues by workload: every task has a declared queue, and some worker consumes every queue.

The routes are config/queues.py (CELERY_TASK_ROUTES, by task name); the workers are the
Procfile's (what `make run` starts) and the simulation's. A task without a route of its
own, or a queue no worker consumes, would sit in Redis with nobody to run it.
"""

import shlex
from pathlib import Path

import pytest
from celery.app.routes import MapRoute
from django.conf import settings

from config import queues
from config.celery import app, one_queue

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def _product_tasks() -> list[str]:
    app.loader.import_default_modules()  # every installed app's tasks module
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def _procfile_workers() -> dict[str, list[str]]:
    """Procfile process name -> the queues its `celery worker` consumes (all declared ones without -Q)."""
    workers = {}
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        words = shlex.split(command)
        if "celery" not in " ".join(words[:1]) or "worker" not in words:
            continue
        consumed = list(queues.QUEUES)
        for flag in ("-Q", "--queues"):
            if flag in words:
                consumed = words[words.index(flag) + 1].split(",")
        workers[name.strip()] = consumed
    return workers


def test_every_registered_task_routes_to_a_declared_queue_by_its_name():
    tasks = _product_tasks()
    assert {"payouts.dispatch_payout", "reconciliation.nightly_run", "core.ping"} <= set(tasks)
    routes = MapRoute(queues.task_routes())
    unrouted = [name for name in tasks if routes(name) is None]
    assert unrouted == [], f"tasks without a route in config/queues.py: {unrouted}"
    undeclared = {name: routes(name)["queue"] for name in tasks if routes(name)["queue"] not in queues.QUEUES}
    assert undeclared == {}


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("payouts.dispatch_payout", "payouts"),
        ("payouts.retry_failed_payout", "payouts"),
        ("payouts.poll_pending_payouts", "payouts"),
        ("payouts.sweep_open_deposits", "webhooks"),
        ("reconciliation.nightly_run", "reconciliation"),
        ("core.expire_idempotency_records", "housekeeping"),
        ("tenants.expire_policy_changes", "housekeeping"),
        ("players.clear_expired_sessions", "housekeeping"),
        ("games.sweep_open_rounds", "games"),  # the game wallet's tasks, by their name alone
    ],
)
def test_the_product_sends_each_workload_to_its_queue(task, queue):
    assert queues.task_routes() == settings.CELERY_TASK_ROUTES  # as every process started without CELERY_QUEUE
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_every_beat_task_is_routed():
    routes = MapRoute(queues.task_routes())
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert routes(entry["task"])["queue"] in queues.QUEUES, entry["task"]


def test_every_declared_queue_is_consumed_by_a_procfile_worker_and_no_worker_reads_an_unknown_one():
    workers = _procfile_workers()
    assert set(workers) == {"payouts", "reconciliation", "background"}
    consumed = [queue for names in workers.values() for queue in names]
    assert set(consumed) == set(queues.QUEUES)
    assert workers["payouts"] == ["payouts"]  # a payout never waits behind another workload


def test_a_worker_started_without_q_consumes_every_queue_each_bound_to_itself_alone():
    assert [queue.name for queue in settings.CELERY_TASK_QUEUES] == list(queues.QUEUES)
    assert settings.CELERY_TASK_DEFAULT_QUEUE in queues.QUEUES
    # one exchange and routing key per queue: on a shared one a task would reach every queue
    bindings = [(queue.exchange.name, queue.routing_key) for queue in settings.CELERY_TASK_QUEUES]
    assert bindings == [(name, name) for name in queues.QUEUES]


def test_the_simulations_worker_consumes_every_queue_under_the_runs_prefix(tmp_path):
    from simulation.environment import Environment

    env = Environment(seed=7, database="sim_7_unused", run_dir=tmp_path)
    assert env.worker_queues() == [f"{env.queue}.{queue}" for queue in queues.QUEUES]
    assert env.product_env("x")["CELERY_QUEUE_PREFIX"] == f"{env.queue}."
    assert env.product_env("x")["CELERY_QUEUE"] == ""  # not one queue: the product's own routes


def test_one_queue_sends_every_task_to_a_tests_own_worker_and_restores_the_routes():
    with one_queue("a-test-of-its-own"):
        assert app.amqp.router.route({}, "payouts.dispatch_payout")["queue"].name == "a-test-of-its-own"
        assert app.amqp.router.route({}, "reconciliation.run")["queue"].name == "a-test-of-its-own"
    assert app.amqp.router.route({}, "payouts.dispatch_payout")["queue"].name == "payouts"
