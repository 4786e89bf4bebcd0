"""Celery queues by workload, and which tasks go to each (by task name).

Each queue is consumed by its own group of workers (`Procfile`), so each workload scales
with its own processes and none waits behind another: a reconciliation run that takes
minutes, or a burst of game-round sweeps, never delays a payout. Plain Python (no
Django): the settings build CELERY_TASK_ROUTES from it, and the simulation and the tests
read it to start and check workers.
"""

# queue -> what it carries
QUEUES = {
    "payouts": "payout dispatch, status polls, automatic retries",
    "webhooks": "follow-ups of PSP webhooks: deposits whose checkout or webhook never came",
    "games": "game wallet sweeps (the game wallet's tasks, named games.*)",
    "reconciliation": "reconciliation runs (nightly, weekly, on demand)",
    "housekeeping": "the platform's periodic tasks: expiries, session cleanup, refusal tallies",
}

# task name or glob pattern -> queue; an exact name wins over a pattern (Celery's MapRoute)
ROUTES = {
    "payouts.sweep_open_deposits": "webhooks",
    "payouts.*": "payouts",
    "webhooks.*": "webhooks",
    "games.*": "games",
    "reconciliation.*": "reconciliation",
    "core.*": "housekeeping",
    "tenants.*": "housekeeping",
    "players.*": "housekeeping",
}

# Where a task no route names would go: consumed, so nothing is lost, but a test refuses
# any registered task without a route of its own.
DEFAULT = "housekeeping"


def task_routes(prefix: str = "") -> dict[str, dict[str, str]]:
    """CELERY_TASK_ROUTES; `prefix` names a separate set of the same queues (a simulation's own)."""
    return {name: {"queue": prefix + queue} for name, queue in ROUTES.items()}


def all_queues(prefix: str = "") -> list[str]:
    """Every queue, for `celery worker -Q` of a worker that consumes them all."""
    return [prefix + queue for queue in QUEUES]
