"""The live product for one run: its database, and the web server (scripts/web.sh, as the
Procfile runs it), a Celery worker and the sandbox PSP as subprocesses on free ports, each in
its own process group so it can be killed whole.

Everything here is the run's own: the database `sim_<seed>` (created, migrated, dropped
unless kept), the workload queues (payouts, webhooks, ...) under a prefix nobody else
uses, with the product's routes onto them and one worker consuming them all, a cache key
prefix of its own. Nothing else in PostgreSQL or Redis is touched: the Redis keys
removed at the end are the ones that name this run's queues.
"""

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
SIM_APP_NAME = "simulation"  # application_name of the simulation's own database connections
WEB_APP_NAME, WORKER_APP_NAME, PSP_APP_NAME = "sim-web", "sim-worker", "sim-psp"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(sql: str, database: str = "postgres") -> str:
    command = ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", database]
    command += ["-v", "ON_ERROR_STOP=1", "-Atc", sql]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()  # noqa: S603


@dataclass
class Settings:
    """What the product processes are told through their environment."""

    psp_timeout_seconds: float = 1.5
    payout_poll_after_seconds: int = 4
    sandbox_retry_base_seconds: float = 0.5


class Environment:
    def __init__(self, *, seed: int, database: str, run_dir: Path, settings: Settings | None = None):
        self.seed, self.database, self.run_dir = seed, database, run_dir
        self.settings = settings or Settings()
        self.database_url = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{database}"
        tag = uuid.uuid4().hex[:8]
        self.queue = f"sim-{seed}-{tag}"  # the prefix of the run's own set of workload queues
        self.cache_prefix = f"sim-{seed}-{tag}"
        self.web_port, self.psp_port = free_port(), free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        # The product refuses to start without a key (DJANGO_DEBUG is off here, as in production):
        # the one `make sim` passes on, else one of the run's own.
        self.secret_key = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
        self.psp_url = f"http://127.0.0.1:{self.psp_port}"
        self.web: subprocess.Popen | None = None
        self.psp: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_generation = 0
        self._all: list[subprocess.Popen] = []
        run_dir.mkdir(parents=True, exist_ok=True)

    # -- environment variables --------------------------------------------------------------

    @property
    def queue_prefix(self) -> str:
        return f"{self.queue}."

    def worker_queues(self) -> list[str]:
        """Every workload queue (config/queues.py) under the run's prefix: its one worker consumes them all."""
        from config import queues  # the config package starts the Celery app: not before the run's environment

        return queues.all_queues(self.queue_prefix)

    def _is_ours(self, *names) -> bool:
        return any(str(name).startswith(self.queue_prefix) for name in names)

    def product_env(self, app_name: str) -> dict:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.database_url,
            "CELERY_QUEUE": "",  # not one queue for everything: the product's routes, ...
            "CELERY_QUEUE_PREFIX": self.queue_prefix,  # ... onto queues of the run's own
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CACHE_KEY_PREFIX": self.cache_prefix,
            "SANDBOX_PSP_URL": self.psp_url,
            "PSP_TIMEOUT_SECONDS": str(self.settings.psp_timeout_seconds),
            "PAYOUT_POLL_AFTER_SECONDS": str(self.settings.payout_poll_after_seconds),
            "SANDBOX_PSP_RETRY_BASE_SECONDS": str(self.settings.sandbox_retry_base_seconds),
            "API_PLAYER_RATE": "1000000/min",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_SSL_REDIRECT": "0",  # the clients speak plain HTTP to the web server, as behind a TLS proxy
            "LOG_LEVEL": "WARNING",
            "PGAPPNAME": app_name,
            "PYTHONUNBUFFERED": "1",
        }

    def configure_this_process(self) -> None:
        """Point this process's Django at the run's database, queue and cache, before django.setup()."""
        os.environ.update(self.product_env(SIM_APP_NAME))

    # -- database -----------------------------------------------------------------------------

    def create_database(self) -> None:
        psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    # -- processes ----------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = (self.run_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._all.append(process)
        return process

    def start_web(self) -> None:
        """The product's web server as `make run` starts it: granian, a worker per core (respawned
        when one dies), each importing config.wsgi with its start-up check."""
        env = {**self.product_env(WEB_APP_NAME), "PORT": str(self.web_port), "VENV_BIN": str(BIN)}
        env |= {"WEB_ACCESS_LOG": "0", "WEB_LOG_LEVEL": "warning"}
        self.web = self._spawn("web", [str(REPO / "scripts" / "web.sh")], env)

    def start_psp(self) -> None:
        env = {**self.product_env(PSP_APP_NAME), "DJANGO_SETTINGS_MODULE": "config.sandbox_settings"}
        env["DATABASE_CONN_MAX_AGE"] = "0"  # a thread per request: no connection outlives its request
        command = [str(BIN / "python"), "manage.py", "run_sandbox_psp", "--port", str(self.psp_port)]
        self.psp = self._spawn("psp", command, env)

    def start_worker(self) -> None:
        self.worker_generation += 1
        node = f"{self.queue}-{self.worker_generation}@localhost"
        command = [str(BIN / "celery"), "-A", "config", "worker", "-Q", ",".join(self.worker_queues()), "-n", node]
        command += ["-c", "2", "--pool", "prefork", "--without-mingle", "--without-gossip", "--without-heartbeat"]
        command += ["-l", "INFO"]
        self.worker = self._spawn(f"worker-{self.worker_generation}", command, self.product_env(WORKER_APP_NAME))

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        self._wait_port(self.web, self.web_port, deadline, "the web server")
        self._wait_web_app(deadline)
        self._wait_port(self.psp, self.psp_port, deadline, "sandbox PSP")
        self.wait_worker(deadline)

    def _wait_port(self, process, port: int, deadline: float, name: str) -> None:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.run_dir}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not listen on {port}; see {self.run_dir}")

    def _wait_web_app(self, deadline: float) -> None:
        """The port is open before granian's workers have loaded the application: wait for an answer."""
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(f"the web server exited with {self.web.returncode}; see {self.run_dir}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=5)
                connection.request("GET", "/api/v1/wallet/", headers={"Connection": "close"})
                if connection.getresponse().status < 500:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the web application did not answer in time; see {self.run_dir}")

    def wait_worker(self, deadline: float | None = None) -> None:
        deadline = deadline or time.monotonic() + 60
        log = self.run_dir / f"worker-{self.worker_generation}.log"
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"the Celery worker exited with {self.worker.returncode}; see {log}")
            if log.exists() and b" ready." in log.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"the Celery worker was not ready in time; see {log}")

    def worker_children(self) -> list[int]:
        """The prefork pool's processes of the current worker."""
        return _children(self.worker)

    def web_children(self) -> list[int]:
        """The web server's worker processes (granian's main process starts a new one when one dies)."""
        return _children(self.web)

    def freeze_psp(self) -> None:
        """SIGSTOP the sandbox PSP: it takes connections but answers nothing until thawed."""
        _kill_group(self.psp, signal.SIGSTOP)

    def thaw_psp(self) -> None:
        _kill_group(self.psp, signal.SIGCONT)

    def kill_worker(self) -> None:
        """SIGKILL the whole worker (main process and pool): what a crashed machine looks like."""
        if self.worker is not None and self.worker.poll() is None:
            _kill_group(self.worker, signal.SIGKILL)
            self.worker.wait(timeout=10)

    def stop(self) -> None:
        """Stop every process this run started: SIGTERM their groups, then SIGKILL what is left."""
        for process in self._all:
            if process.poll() is None:
                _kill_group(process, signal.SIGCONT)  # a frozen process handles no SIGTERM
                _kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self._all:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self._all:
            _kill_group(process, signal.SIGKILL)  # stragglers in the group, pool children included
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    # -- Redis ---------------------------------------------------------------------------------

    def queued_tasks(self, broker_url: str) -> list[tuple[str, str]]:
        """(task name, argsrepr) of every message of this run's queue: waiting in the queue, or
        delivered and not acknowledged yet (running, waiting for its countdown, or held by a killed
        worker until the visibility timeout gives it back)."""
        import redis

        client = redis.Redis.from_url(broker_url)
        envelopes = []
        try:
            for key in client.scan_iter(match=f"{self.queue}*", count=1000):
                if client.type(key) == b"list":
                    envelopes += [json.loads(raw) for raw in client.lrange(key, 0, -1)]
            for _tag, raw in client.hscan_iter("unacked"):
                try:
                    envelope, exchange, routing_key = json.loads(raw)
                except (ValueError, TypeError):
                    continue
                if self._is_ours(exchange, routing_key):
                    envelopes.append(envelope)
        finally:
            client.close()
        headers = [envelope.get("headers") or {} for envelope in envelopes if isinstance(envelope, dict)]
        return [(str(h.get("task", "")), str(h.get("argsrepr", ""))) for h in headers]

    def clean_redis(self, redis_url: str) -> int:
        """Delete only this run's keys: its queue, bindings and unacked messages routed to it."""
        import redis

        client = redis.Redis.from_url(redis_url)
        removed = 0
        try:
            for pattern in (f"*{self.queue}*", f"{self.cache_prefix}:*"):
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    removed += client.delete(*keys)
            for binding in client.scan_iter(match="_kombu.binding.*", count=1000):
                for member in client.smembers(binding):
                    if self.queue.encode() in member:
                        removed += client.srem(binding, member)
            for tag, raw in client.hscan_iter("unacked"):
                try:
                    _message, exchange, routing_key = json.loads(raw)
                except (ValueError, TypeError):
                    continue
                if self._is_ours(exchange, routing_key):
                    removed += client.hdel("unacked", tag)
                    client.zrem("unacked_index", tag)
        finally:
            client.close()
        return removed


def _children(process: subprocess.Popen | None) -> list[int]:
    """Child pids of one of our processes, from /proc (psutil is not installed)."""
    found: set[int] = set()
    if process is None or process.poll() is not None:
        return []
    for task in Path(f"/proc/{process.pid}/task").glob("*"):
        try:
            found |= {int(pid) for pid in (task / "children").read_text().split()}
        except OSError:
            continue
    return sorted(found)


def _kill_group(process: subprocess.Popen, sig: int) -> None:
    """Signal the process group we created for `process` (start_new_session): it and its children."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
