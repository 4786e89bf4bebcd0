"""The Celery application: Redis broker, tasks discovered from the installed apps.

Database connections in a worker live like a web process's: kept between tasks for
CONN_MAX_AGE, closed after an error that left them unusable, and checked once before a
task uses a kept one. Celery's Django fixup would instead close them before and after
every task (CELERY_DB_REUSE_MAX unset): a new PostgreSQL backend per task, which cost a
payout dispatch more than its own work did (docs/benchmarks-dispatch-profile.md).
"""

import os
from contextlib import contextmanager

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("casino_payments")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _check_the_unit_of_work_fence(**kwargs):
    from core.unit_of_work import refuse_to_start_unfenced

    refuse_to_start_unfenced()


@worker_init.connect
def _check_kept_connections_before_use(**kwargs):
    """A kept connection may have been closed by the server meanwhile (a restart, an idle
    timeout, pg_terminate_backend): one `SELECT 1` before a task's first query finds out,
    and the task gets a new connection instead of failing. Set before the pool forks."""
    from django.conf import settings

    for database in settings.DATABASES.values():
        database["CONN_HEALTH_CHECKS"] = True


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **kwargs):
    """What Django does around each request, around each task (never in eager mode: a
    test's transaction is open on that connection)."""
    from django.db import close_old_connections

    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()


@contextmanager
def one_queue(queue: str):
    """Send every task from this process to `queue` for a while (a test's or a benchmark's
    own worker): what CELERY_QUEUE does for a process started with it, at run time."""
    saved = {"task_routes": app.conf.task_routes, "task_default_queue": app.conf.task_default_queue}
    app.conf.update(task_routes={}, task_default_queue=queue)  # the router is rebuilt on update
    try:
        yield
    finally:
        app.conf.update(saved)
