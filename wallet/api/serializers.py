"""Player API representations. Amounts are decimal strings with their currency."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import (
    AmountField,
    StrictBooleanField,
    StrictIntegerField,
    amount_in_minor_units,
    currency_field,
    money_text,
)
from players.exclusions import PLAYERS_OWN, SELF_EXCLUSION_DAYS, TIMEOUT_DAYS
from players.models import Exclusion, LimitKind, LimitPeriod
from wallet.models import DepositState, PaymentMethodKind, WithdrawalState
from wallet.selectors import balance_after

ALL_STATES = sorted({*DepositState.values, *WithdrawalState.values})


_DATETIME = serializers.DateTimeField()


def _iso(moment) -> str | None:
    """Datetimes as DRF renders them: ISO 8601 in UTC with a Z."""
    return None if moment is None else _DATETIME.to_representation(moment)


class MoneyRequestSerializer(serializers.Serializer):
    amount = AmountField()
    currency = currency_field()

    def validate(self, attrs):
        attrs["amount_minor"] = amount_in_minor_units(attrs)
        return attrs


class WithdrawalCreateSerializer(MoneyRequestSerializer):
    payment_method = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Where the payout goes: one of the player's methods (GET payment-methods/). Required once the "
        "player has any; the closed-loop rule decides how much each may receive (CLOSED_LOOP_VIOLATION).",
    )


class CancelRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class WalletSerializer(serializers.Serializer):
    currency = serializers.CharField()
    available = serializers.SerializerMethodField()
    held = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    receivable = serializers.SerializerMethodField(
        help_text="What the player owes the casino: chargebacks the balance could not cover. Above zero, the "
        "account is restricted (no withdrawals, no play) and deposits repay it first."
    )

    def get_receivable(self, wallet) -> str:
        return money_text(wallet.balance_receivable, wallet.currency)

    def get_available(self, wallet) -> str:
        return money_text(wallet.balance_available, wallet.currency)

    def get_held(self, wallet) -> str:
        return money_text(wallet.balance_held, wallet.currency)

    def get_total(self, wallet) -> str:
        return money_text(wallet.balance_total, wallet.currency)


class WalletListSerializer(serializers.Serializer):
    wallets = WalletSerializer(many=True)


class TransactionSerializer(serializers.Serializer):
    """Fields common to deposits and withdrawals.

    The declared fields describe the API (schema, docs); `to_representation` builds the
    same dict directly, because instantiating DRF fields per response costs more than
    the rest of the request's Python. A test checks both list the same keys.
    """

    # `cancelable` needs the casino's rule, which the view passes in the context
    # (`cancel_allowed`, wallet.selectors.cancel_allowed); without it nothing is cancelable.

    id = serializers.UUIDField()
    type = serializers.SerializerMethodField()
    reference = serializers.CharField()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    state = serializers.ChoiceField(choices=ALL_STATES)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    cancelable = serializers.SerializerMethodField(
        help_text="The player may cancel it now (POST withdrawals/<id>/cancel/): a withdrawal awaiting review, "
        "at a casino that allows reverse withdrawals. Always false for deposits."
    )

    def get_type(self, tx) -> str:
        return tx.TX_TYPE

    def get_cancelable(self, tx) -> bool:
        return (
            tx.TX_TYPE == "withdrawal"
            and tx.state == WithdrawalState.REQUESTED
            and bool(self.context.get("cancel_allowed"))
        )

    def get_amount(self, tx) -> str:
        return money_text(tx.amount, tx.currency)

    def to_representation(self, tx):
        return {
            "id": str(tx.id),
            "type": tx.TX_TYPE,
            "reference": tx.reference,
            "amount": money_text(tx.amount, tx.currency),
            "currency": tx.currency,
            "state": str(tx.state),
            "created_at": _iso(tx.created_at),
            "updated_at": _iso(tx.updated_at),
            "cancelable": self.get_cancelable(tx),
            **self.extra_representation(tx),
        }

    def extra_representation(self, tx) -> dict:
        return {}


def _method_id(tx) -> str | None:
    return None if tx.payment_method_id is None else str(tx.payment_method_id)


class DepositSerializer(TransactionSerializer):
    state = serializers.ChoiceField(choices=DepositState.choices)
    checkout_url = serializers.SerializerMethodField()
    provider_reference = serializers.SerializerMethodField()
    completed_at = serializers.DateTimeField(allow_null=True)
    payment_method = serializers.UUIDField(
        allow_null=True, help_text="What the player paid with (GET payment-methods/), once the PSP reported it."
    )

    def get_checkout_url(self, deposit) -> str | None:
        return deposit.checkout_url or None

    def get_provider_reference(self, deposit) -> str | None:
        return deposit.provider_reference or None

    def extra_representation(self, deposit) -> dict:
        return {
            "checkout_url": deposit.checkout_url or None,
            "provider_reference": deposit.provider_reference or None,
            "completed_at": _iso(deposit.completed_at),
            "payment_method": _method_id(deposit),
        }


class WithdrawalSerializer(TransactionSerializer):
    state = serializers.ChoiceField(choices=WithdrawalState.choices)
    paid_at = serializers.DateTimeField(allow_null=True)
    payment_method = serializers.UUIDField(allow_null=True, help_text="The destination the payout goes to.")

    def extra_representation(self, withdrawal) -> dict:
        return {"paid_at": _iso(withdrawal.paid_at), "payment_method": _method_id(withdrawal)}


class TransactionPageSerializer(serializers.Serializer):
    results = TransactionSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Cursor URL of the next (older) page, or null.")


class TimelineEntrySerializer(serializers.Serializer):
    state = serializers.CharField(source="to_state")
    from_state = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField(source="created_at")


class BalanceSerializer(serializers.Serializer):
    available = serializers.CharField()
    held = serializers.CharField()
    receivable = serializers.CharField(help_text="Owed to the casino (chargebacks).")


class PaymentMethodRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=PaymentMethodKind.choices)
    label = serializers.CharField()


class ReceiptSerializer(TransactionSerializer):
    """A deposit or withdrawal as a receipt: its timeline and the balance it left."""

    def extra_representation(self, tx) -> dict:
        return {
            "provider_reference": self.get_provider_reference(tx),
            "payment_method": self.get_payment_method(tx),
            "timeline": self.get_timeline(tx),
            "balance_after": self.get_balance_after(tx),
        }

    provider_reference = serializers.SerializerMethodField()
    payment_method = serializers.SerializerMethodField(
        help_text="A deposit: what the player paid with; a withdrawal: where the payout goes."
    )
    timeline = serializers.SerializerMethodField()
    balance_after = serializers.SerializerMethodField()

    @extend_schema_field(PaymentMethodRefSerializer(allow_null=True))
    def get_payment_method(self, tx):
        if tx.payment_method_id is None:
            return None
        method = tx.payment_method
        return {"id": str(method.pk), "kind": method.kind, "label": method.label}

    def get_provider_reference(self, tx) -> str | None:
        if tx.TX_TYPE == "deposit":
            return tx.provider_reference or None
        paid = tx.payout_attempts.filter(status="succeeded").values_list("provider_reference", flat=True).first()
        return paid or None

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, tx):
        return TimelineEntrySerializer(tx.transitions.order_by("created_at", "id"), many=True).data

    @extend_schema_field(BalanceSerializer(allow_null=True))
    def get_balance_after(self, tx):
        balances = balance_after(tx)
        if balances is None:
            return None
        return {name: money_text(value, tx.currency) for name, value in balances.items()}


# Player protection: the player's own limits and exclusions (ARCHITECTURE section 13).


class PendingLimitSerializer(serializers.Serializer):
    amount = serializers.CharField(allow_null=True, help_text="The raised limit; null: the limit's removal.")
    effective_at = serializers.DateTimeField(help_text="When it applies (after the casino's cooling-off).")


class LimitSerializer(serializers.Serializer):
    """A limit as the player sees it now: the amount in force, and a raise or removal waiting."""

    currency = serializers.CharField()
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    period = serializers.ChoiceField(
        choices=LimitPeriod.choices, help_text="A rolling window: day = 24 hours, week = 7 days, month = 30 days."
    )
    amount = serializers.CharField(allow_null=True, help_text="The limit in force; null: none.")
    pending = PendingLimitSerializer(
        allow_null=True, help_text="A raise or removal waiting for its cooling-off; `amount` applies until then."
    )

    def to_representation(self, view):
        pending = None
        if view.pending:
            pending = {
                "amount": money_text(view.pending_amount, view.currency),
                "effective_at": _iso(view.pending_effective_at),
            }
        return {
            "currency": view.currency,
            "kind": view.kind,
            "period": view.period,
            "amount": money_text(view.amount, view.currency),
            "pending": pending,
        }


class LimitListSerializer(serializers.Serializer):
    limits = LimitSerializer(many=True)


class LimitUpdateSerializer(serializers.Serializer):
    currency = currency_field()
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    period = serializers.ChoiceField(choices=LimitPeriod.choices)
    amount = AmountField(allow_null=True, help_text="The new limit as a decimal string; null removes the limit.")

    def validate(self, attrs):
        attrs["amount_minor"] = None if attrs["amount"] is None else amount_in_minor_units(attrs)
        return attrs


class ExclusionCreateSerializer(serializers.Serializer):
    """A break (timeout) or a self-exclusion: `days`, or `permanent` for a self-exclusion."""

    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in PLAYERS_OWN])
    days = StrictIntegerField(
        required=False,
        min_value=TIMEOUT_DAYS[0],
        max_value=SELF_EXCLUSION_DAYS[1],
        help_text=f"timeout: {TIMEOUT_DAYS[0]} to {TIMEOUT_DAYS[1]} days; self_exclusion: "
        f"{SELF_EXCLUSION_DAYS[0]} to {SELF_EXCLUSION_DAYS[1]} days (or permanent instead).",
    )
    permanent = StrictBooleanField(required=False, default=False, help_text="self_exclusion only, without days.")


class NewExclusionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Exclusion.Kind.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null: permanent.")


class ExclusionSerializer(NewExclusionSerializer):
    """One of the player's exclusions: a break, a self-exclusion, or a block by the casino."""

    # `active` is decided at the context's `now`, one moment for the whole list.
    active = serializers.SerializerMethodField(help_text="In force now: no deposits or play.")

    def get_active(self, exclusion) -> bool:
        return exclusion.is_active(self.context["now"])


class ExclusionListSerializer(serializers.Serializer):
    exclusions = ExclusionSerializer(many=True, help_text="Newest first, at most the 100 most recent.")


# Payment methods (ARCHITECTURE section 16).


class NetDepositedSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField(
        help_text="Completed deposits from the method less withdrawals to it that are paid or in flight; "
        "may be negative once winnings went to it."
    )


class PaymentMethodSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    provider = serializers.CharField()
    kind = serializers.ChoiceField(choices=PaymentMethodKind.choices)
    label = serializers.CharField()
    payout_capable = serializers.BooleanField(help_text="Payouts can be sent to it.")
    created_at = serializers.DateTimeField(help_text="When it was first used (its first completed deposit).")
    last_used_at = serializers.DateTimeField(allow_null=True)
    net_deposited = NetDepositedSerializer(many=True, help_text="Per currency the method has moved.")

    def to_representation(self, view):
        method = view.method
        return {
            "id": str(method.pk),
            "provider": method.provider,
            "kind": method.kind,
            "label": method.label,
            "payout_capable": method.payout_capable,
            "created_at": _iso(method.created_at),
            "last_used_at": _iso(method.last_used_at),
            "net_deposited": [
                {"currency": currency, "amount": money_text(amount, currency)}
                for currency, amount in view.net_deposited
            ],
        }


class PaymentMethodListSerializer(serializers.Serializer):
    payment_methods = PaymentMethodSerializer(many=True)
