"""Changing a tenant's payment policy: validated, in one transaction, audited before and after."""

from django.db import transaction

from core.actors import Actor
from core.audit import record_event
from core.errors import ReviewReasonRequired, ValidationFailed
from core.unit_of_work import UnitOfWork
from tenants.models import CurrencyLimit, PaymentPolicy, Tenant

LIMIT_FIELDS = ("daily_deposit_limit", "daily_withdraw_limit", "min_amount", "max_amount", "four_eyes_amount")


def policy_as_dict(policy: PaymentPolicy) -> dict:
    """The policy as plain values (minor units), for audit before/after and for the API."""
    limits = []
    if policy.pk:
        limits = [
            {"currency": cl.currency, **{name: getattr(cl, name) for name in LIMIT_FIELDS}}
            for cl in policy.currency_limits.order_by("currency")
        ]
    return {
        "payout_retry_limit": policy.payout_retry_limit,
        "payout_cooldown_seconds": policy.payout_cooldown_seconds,
        "currency_limits": limits,
    }


def update_payment_policy(
    tenant: Tenant,
    *,
    actor: Actor,
    payout_retry_limit: int,
    payout_cooldown_seconds: int,
    currency_limits: list[dict],
    reason: str = "",
) -> PaymentPolicy:
    """Replace the tenant's policy. Currency rows not listed are removed (no limits).

    Changes apply to requests that arrive after the commit; transactions already made
    are not re-checked. A change needs a reason (it is a decision about players' money);
    saving the policy unchanged needs none and records nothing.
    """
    _validate(tenant, payout_retry_limit, payout_cooldown_seconds, currency_limits)
    with transaction.atomic():
        policy, _ = PaymentPolicy.objects.select_for_update().get_or_create(tenant=tenant)
        before = policy_as_dict(policy)
        policy.payout_retry_limit = payout_retry_limit
        policy.payout_cooldown_seconds = payout_cooldown_seconds
        policy.save()
        policy.currency_limits.all().delete()
        CurrencyLimit.objects.bulk_create(
            CurrencyLimit(policy=policy, currency=row["currency"], **{name: row.get(name) for name in LIMIT_FIELDS})
            for row in currency_limits
        )
        after = policy_as_dict(policy)
        if before != after:
            if not (reason or "").strip():
                raise ReviewReasonRequired("Say why the payment policy changes.")  # rolls the change back
            uow = UnitOfWork()
            record_event(
                tenant=tenant,
                actor=actor,
                action="policy.updated",
                target=policy,
                reason=reason.strip(),
                data={"before": before, "after": after},
                uow=uow,
            )
            uow.flush()
        return policy


def _validate(tenant: Tenant, retry_limit: int, cooldown: int, rows: list[dict]) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(retry_limit, int) or retry_limit < 1 or retry_limit > 20:
        errors["payout_retry_limit"] = ["Must be a whole number from 1 to 20."]
    if not isinstance(cooldown, int) or cooldown < 0 or cooldown > 7 * 86400:
        errors["payout_cooldown_seconds"] = ["Must be a whole number of seconds from 0 to 604800."]
    seen = set()
    for row in rows:
        currency = row.get("currency")
        if currency not in tenant.allowed_currencies:
            errors.setdefault("currency_limits", []).append(f"{currency} is not a currency of {tenant.name}.")
        if currency in seen:
            errors.setdefault("currency_limits", []).append(f"{currency} is listed twice.")
        seen.add(currency)
        for name in LIMIT_FIELDS:
            value = row.get(name)
            floor = 0 if name.startswith("daily_") else 1  # a daily limit of 0 stops that payment type
            if value is not None and (not isinstance(value, int) or value < floor):
                errors.setdefault("currency_limits", []).append(f"{currency} {name} must be at least {floor}.")
        low, high = row.get("min_amount"), row.get("max_amount")
        if low is not None and high is not None and high < low:
            errors.setdefault("currency_limits", []).append(f"{currency} max_amount is below min_amount.")
    if errors:
        raise ValidationFailed("The payment policy is not valid.", errors=errors)
