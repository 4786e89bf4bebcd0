"""Periodic work of the tenants app."""

from celery import shared_task

from tenants.services import expire_due_policy_changes


@shared_task(name="tenants.expire_policy_changes")
def expire_policy_changes() -> int:
    """Pending policy changes not approved within 72 hours expire; the policy stays as it was."""
    return expire_due_policy_changes()
