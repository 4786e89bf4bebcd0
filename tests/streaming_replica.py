"""A real streaming replica of the test cluster, on this machine, for as long as a test module needs it.

pg_basebackup copies the primary on 127.0.0.1:5432 (every database of the cluster, the test
database with them) into a temporary directory with -R (standby.signal and primary_conninfo)
and a replication slot of its own, so the primary keeps the WAL the replica has not read
yet; a second postgres serves that copy as a hot standby on a free port. PostgreSQL refuses
to run as root: as root, the copy belongs to the `postgres` OS user and runs through
`runuser`. `destroy()` stops it, drops the slot and deletes the directory.

What the primary must allow: wal_level replica or logical (the default), max_wal_senders
above 0 (the default), and a `replication` line in pg_hba.conf for 127.0.0.1, which
scripts/ensure-services.sh adds. Without them `Unavailable` says why, and the tests skip.
"""

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PORTS = range(55440, 55450)  # this worktree's range for replicas
SLOT_PREFIX = "casino_test_replica_"
# Settings a hot standby may not have lower than its primary.
AT_LEAST_THE_PRIMARYS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class Unavailable(Exception):
    """This machine cannot make a replica (the reason says why); the tests that need one skip."""


class StreamingReplica:
    def __init__(self, *, host: str, port: int, user: str, dbname: str):
        self.primary = {"host": host, "port": port, "user": user, "dbname": dbname}
        self.slot = f"{SLOT_PREFIX}{os.getpid()}"
        self.folder: Path | None = None
        self.port: int | None = None
        self.running = False

    # --- making and removing it ---------------------------------------------------------------

    def create(self) -> "StreamingReplica":
        version = self._primary_sql("SHOW server_version_num")[0][0]
        self.bin = Path(f"/usr/lib/postgresql/{int(version) // 10000}/bin")
        if not (self.bin / "pg_basebackup").exists():
            raise Unavailable(f"no PostgreSQL binaries in {self.bin}")
        if self._primary_sql("SHOW wal_level")[0][0] == "minimal":
            raise Unavailable("the primary runs with wal_level=minimal: no streaming replication")
        if int(self._primary_sql("SHOW max_wal_senders")[0][0]) < 1:
            raise Unavailable("the primary allows no WAL senders (max_wal_senders=0)")
        self._drop_abandoned_slots()
        self.folder = Path(tempfile.mkdtemp(prefix="casino-replica-"))
        (self.folder / "sock").mkdir()
        self._give_to_server_user(self.folder)
        backup = self._as_server_user(
            [
                str(self.bin / "pg_basebackup"),
                *("-h", self.primary["host"], "-p", str(self.primary["port"]), "-U", self.primary["user"]),
                *("-D", str(self.data), "-R", "-X", "stream", "-c", "fast", "-N"),
                *("-C", "-S", self.slot),
            ],
            timeout=300,
        )
        if backup.returncode != 0:
            message = backup.stderr.strip()
            if "pg_hba.conf" in message or "authentication failed" in message:
                raise Unavailable(
                    "the primary refuses replication connections from 127.0.0.1 "
                    f"(scripts/ensure-services.sh allows them in pg_hba.conf): {message}"
                )
            raise RuntimeError(f"pg_basebackup failed: {message}")
        self._configure()
        self.start()
        return self

    def destroy(self) -> None:
        if self.folder is None:
            return
        if self.running:
            self.stop(mode="immediate")
        with contextlib.suppress(psycopg.Error):
            self._primary_sql(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                [self.slot],
            )
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _configure(self) -> None:
        """The copy has no postgresql.conf or pg_hba.conf of its own on Debian (they live in /etc)."""
        self.port = _free_port()
        floors = "\n".join(f"{name} = {self._primary_sql(f'SHOW {name}')[0][0]}" for name in AT_LEAST_THE_PRIMARYS)
        (self.data / "postgresql.conf").write_text(
            f"port = {self.port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.folder / 'sock'}'\n"
            "hot_standby = on\n"
            # Long reconciliation reads on the replica are not cancelled by the primary's vacuum.
            "hot_standby_feedback = on\n"
            "shared_buffers = 32MB\n"
            "fsync = off\n"  # a throwaway copy: no need to survive a crash of this machine
            "log_min_messages = warning\n"
            f"{floors}\n"
        )
        (self.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self._give_to_server_user(self.folder)

    def _drop_abandoned_slots(self) -> None:
        """Slots of earlier runs whose process is gone (a crash before destroy()) would keep WAL forever."""
        for (slot,) in self._primary_sql(
            "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s AND NOT active", [f"{SLOT_PREFIX}%"]
        ):
            pid = int(re.sub(r"\D", "", slot.removeprefix(SLOT_PREFIX)) or 0)
            if pid and pid != os.getpid() and _alive(pid):
                continue
            with contextlib.suppress(psycopg.Error):
                self._primary_sql("SELECT pg_drop_replication_slot(%s)", [slot])

    # --- running it ---------------------------------------------------------------------------

    def start(self) -> None:
        started = self._as_server_user(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "60", "start"],
            timeout=90,
        )
        if started.returncode != 0:
            log = (self.folder / "log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the replica did not start: {started.stderr.strip()}\n{log}")
        self.running = True
        self.wait_until_caught_up()

    def stop(self, mode: str = "fast") -> None:
        self._as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], timeout=60)
        self.running = False

    def pause(self) -> None:
        """Stop replaying WAL (it is still received): the replica's snapshot stands still."""
        self.sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.sql("SELECT pg_get_wal_replay_pause_state()")[0][0] != "paused":
            if time.monotonic() > deadline:
                raise TimeoutError("replay did not pause")
            time.sleep(0.01)

    def resume(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")

    def wait_until_caught_up(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary had written when asked."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                written = self._primary_sql("SELECT pg_current_wal_lsn()")[0][0]
                if self.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])[0][0]:
                    return
            except psycopg.OperationalError:
                pass  # still starting
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not catch up with the primary")
            time.sleep(0.05)

    def sql(self, statement: str, params=None) -> list[tuple]:
        with psycopg.connect(**{**self.primary, "port": self.port}, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def _primary_sql(self, statement: str, params=None) -> list[tuple]:
        with psycopg.connect(**self.primary, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    # --- the OS user that runs it ----------------------------------------------------------

    def _as_server_user(self, command: list[str], *, timeout: float) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.folder)

    def _give_to_server_user(self, path: Path) -> None:
        """As root the server runs as `postgres`, which must own its directory (and nobody else may read it)."""
        os.chmod(path, 0o700)
        if os.geteuid() != 0:
            return
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root, and there is no `postgres` OS user to run the replica") from None
        for folder, dirs, files in os.walk(path):
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            for name in dirs + files:
                os.chown(os.path.join(folder, name), owner.pw_uid, owner.pw_gid, follow_symlinks=False)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise Unavailable(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
