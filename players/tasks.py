"""Housekeeping of player sign-ins."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task(name="players.clear_expired_sessions")
def clear_expired_sessions() -> int:
    """Delete expired browser sessions, and with them the player page's tokens (CASCADE).

    Those tokens stopped working when their session expired (authentication checks the
    session's expiry); this only removes the rows. Django itself never deletes them.
    """
    _total, by_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return by_model.get(Session._meta.label, 0)
