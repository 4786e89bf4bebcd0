"""Running service calls in real threads, each on its own PostgreSQL connection."""

import threading
from dataclasses import dataclass

from django.db import connection


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None


def run_together(count: int, call) -> list[Outcome]:
    """Call `call(i)` for i in range(count) in `count` threads released at the same moment.

    Each thread connects before the barrier (so connecting does not stagger the start)
    and closes its connection at the end, as Django would at the end of a request.
    """
    barrier = threading.Barrier(count)
    outcomes = [Outcome() for _ in range(count)]

    def worker(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[index].value = call(index)
        except BaseException as exc:  # noqa: BLE001 - the test inspects every outcome
            outcomes[index].error = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), name=f"racer-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


def errors_of(outcomes: list[Outcome]) -> list[BaseException]:
    return [o.error for o in outcomes if o.error is not None]


def successes_of(outcomes: list[Outcome]) -> list[object]:
    return [o.value for o in outcomes if o.error is None]
