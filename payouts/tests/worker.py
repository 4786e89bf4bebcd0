"""A real Celery worker on the real Redis, consuming a queue of its own, for end-to-end tests.

`celery_worker` starts `celery -A config worker` (prefork, two children) as a
subprocess whose DATABASE_URL names the *test* database, so it sees what a
`django_db(transaction=True)` test commits. The test process sends to the same
unique queue (CELERY_QUEUE in the worker, `config.celery.one_queue` here) and stops running
tasks eagerly for the test's duration. Teardown stops the worker and deletes only the
Redis keys of that queue: the Redis is shared with other engineers and brokers.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from config.celery import one_queue

REPO = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
READY_WITHIN_SECONDS = 30


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    queue: str
    node: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def children(self) -> set[int]:
        """The prefork pool's processes (psutil is not installed; /proc knows them)."""
        found: set[int] = set()
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                found |= {int(pid) for pid in (task / "children").read_text().split()}
            except OSError:
                continue
        return found

    def active_task_pids(self, task_name: str) -> set[int]:
        """Pids of the children running `task_name` now, as the worker itself reports them."""
        replies = celery_app.control.inspect(destination=[self.node], timeout=1.0, limit=1).active() or {}
        return {task["worker_pid"] for tasks in replies.values() for task in tasks if task["name"] == task_name}


def _wait_until_ready(worker: WorkerProcess) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {worker.process.returncode}:\n{worker.log_tail()}")
        if " ready." in worker.log():
            return
        time.sleep(0.1)
    raise RuntimeError(f"the Celery worker was not ready within {READY_WITHIN_SECONDS} s:\n{worker.log_tail()}")


def _stop(worker: WorkerProcess) -> None:
    """Warm shutdown (SIGTERM) of the process we started; SIGKILL it and its children if it hangs."""
    if worker.process.poll() is None:
        children = worker.children()
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            for pid in children | worker.children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            worker.process.kill()
            worker.process.wait(timeout=5)


def _delete_queue_keys(queue: str) -> None:
    """The queue, its priority lists and bindings, and unacked messages routed to it; nothing else."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        keys = set(client.scan_iter(match=f"*{queue}*", count=1000))
        if keys:
            client.delete(*keys)
        for tag, raw in client.hscan_iter("unacked"):
            try:
                _message, exchange, routing_key = json.loads(raw)
            except (ValueError, TypeError):
                continue
            if queue in (exchange, routing_key):
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """One worker per test module (startup is the slow part); each test gets it via `celery_worker`."""
    queue = f"psptests-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PSP_TIMEOUT_SECONDS": "5",
        "PYTHONUNBUFFERED": "1",
    }
    command = [str(CELERY), "-A", "config", "worker", "-Q", queue, "-n", node, "-c", "2", "--pool", "prefork"]
    command += ["--without-mingle", "--without-gossip", "-l", "INFO"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process=process, queue=queue, node=node, log_path=log_path)
    try:
        _wait_until_ready(worker)
        yield worker
    finally:
        _stop(worker)
        _delete_queue_keys(queue)


@pytest.fixture
def celery_worker(celery_worker_process):
    """For this test: tasks go to the worker's queue instead of running inline."""
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    try:
        with one_queue(celery_worker_process.queue):
            yield celery_worker_process
    finally:
        conf.task_always_eager = saved
