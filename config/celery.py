"""The Celery application: Redis broker, tasks discovered from the installed apps."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("casino_payments")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _check_the_unit_of_work_fence(**kwargs):
    from core.unit_of_work import refuse_to_start_unfenced

    refuse_to_start_unfenced()
