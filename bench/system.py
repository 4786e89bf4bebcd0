"""What the figures were measured on: PostgreSQL settings and the disk's fsync speed."""

import os
import re
import subprocess
import tempfile

from bench.common import psql

SETTINGS = (
    "server_version",
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "wal_sync_method",
    "wal_buffers",
    "commit_delay",
    "max_connections",
    "work_mem",
    "effective_io_concurrency",
    "checkpoint_timeout",
    "max_wal_size",
)


def postgres_settings() -> dict[str, str]:
    return {name: psql(f"SHOW {name}") for name in SETTINGS}


def fsync_speed() -> dict[str, str]:
    """pg_test_fsync's figures (operations per second) for the sync methods, 2 s each."""
    binary = "/usr/lib/postgresql/15/bin/pg_test_fsync"
    if not os.path.exists(binary):
        return {"pg_test_fsync": "not found"}
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [binary, "-s", "2", "-f", os.path.join(folder, "probe")], capture_output=True, text=True, timeout=120
        ).stdout
    figures = {}
    for line in out.splitlines():
        match = re.match(r"\s+(\S[\w ]*?)\s{2,}([\d.,]+) ops/sec\s+([\d.]+) usecs/op", line)
        if match and match.group(1) not in figures:
            figures[match.group(1)] = f"{match.group(2)} ops/s ({match.group(3)} µs/op)"
    return figures or {"pg_test_fsync": out[-500:]}
