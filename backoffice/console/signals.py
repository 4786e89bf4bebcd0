"""Operator logins and failed logins go to the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from core.actors import Actor
from core.audit import record_in_own_transaction
from core.context import client_ip_var
from tenants.models import OperatorMembership


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
    username = str(credentials.get("username", ""))[:150]
    membership = OperatorMembership.objects.filter(user__username=username).select_related("user").first()
    record_in_own_transaction(
        tenant=membership.tenant_id if membership else None,
        actor=Actor.system("login"),
        action="operator.login_failed",
        data={"username": username, "ip": client_ip_var.get(), "known_operator": membership is not None},
    )
