"""Operator logins and failed logins go to the audit trail; failed ones in aggregate."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from core import refusals
from core.actors import Actor
from core.audit import record_in_own_transaction
from core.context import client_ip_var
from core.middleware import client_ip
from tenants.models import OperatorMembership

SIGN_IN_REFUSED = "operator.login_failed"  # the audit action of failed sign-ins, and their rate limit's name


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    membership = OperatorMembership.objects.filter(user=user).first()
    if membership is None and not user.is_superuser:
        return  # players sign in to their own pages; their logins are not operator events
    record_in_own_transaction(
        tenant=membership.tenant_id if membership else None,
        actor=Actor.operator(user),
        action="operator.login",
        target=user,
        data={"role": membership.role if membership else "platform"},
    )


@receiver(user_login_failed)
def audit_failed_login(sender, credentials, request=None, **kwargs):
    """Counted per source address and tallied into one audit event a minute (core/refusals.py).

    Past the limit nothing is looked up or written, and the request is marked so the sign-in
    page answers 429. An unknown username is a platform-level refusal (tenant None).
    """
    source = client_ip(request) if request is not None else client_ip_var.get()
    refusal = refusals.count(SIGN_IN_REFUSED, source)
    if refusal.past_limit:
        if request is not None:
            request.sign_in_throttled = refusal.retry_after
        return
    username = str(credentials.get("username", ""))[:150]
    membership = OperatorMembership.objects.filter(user__username=username).first()
    locked = getattr(request, "axes_locked_out", False)
    refusals.tally(
        refusal,
        tenant_id=membership.tenant_id if membership else None,
        actor=Actor.system("login"),
        reason="Locked out after repeated failures (django-axes)" if locked else "Wrong username or password",
        details={"username": username, "known_operator": membership is not None},
    )
