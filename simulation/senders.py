"""More webhook senders for the sandbox PSP, so its deliveries keep up with the traffic.

`run_sandbox_psp` sends the PSP's webhooks from one thread, one after another; under
16 clients the queue grows to many seconds, which no real PSP would show and which
would starve the run (deposits credited late, withdrawals refused for lack of funds).
The sandbox engine's `deliver_due` claims rows with SKIP LOCKED precisely so several
senders can share the queue, so the simulation runs a few more beside the PSP's own:
the same code, the same signatures, retries and backoff.
"""

import threading
import time

from django.db import close_old_connections, connection


class WebhookSenders:
    def __init__(self, count: int = 4):
        self.count = count
        self.stopping = threading.Event()
        self.delivered = 0
        self.errors = 0
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._loop, name=f"webhook-sender-{n}", daemon=True) for n in range(count)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _loop(self) -> None:
        from payouts.sandbox import engine

        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    sent = engine.deliver_due(limit=2)
                except Exception:  # noqa: BLE001 - a sender outlives a bad moment, like the PSP's own
                    sent = 0
                    with self._lock:
                        self.errors += 1
                    connection.close()
                with self._lock:
                    self.delivered += sent
                if not sent:
                    time.sleep(0.1)
        finally:
            connection.close()
