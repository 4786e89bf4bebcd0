"""Operator API representations. Amounts are decimal strings with their currency."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import AmountField, money_text
from core.api.pagination import NumberedPageSerializer
from wallet.models import PaymentMethodKind, WithdrawalState
from wallet.risk import FLAGS

RISK_FLAGS_HELP = "What finance should look at, computed when the withdrawal was requested."


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", help_text="Why; required, never blank."
    )


class PlayerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()


class MethodRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=PaymentMethodKind.choices)
    label = serializers.CharField()
    fingerprint = serializers.CharField()
    payout_capable = serializers.BooleanField()


class OperatorWithdrawalSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    tenant = serializers.CharField(source="tenant.slug")
    player = PlayerRefSerializer()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    state = serializers.ChoiceField(choices=WithdrawalState.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    age_seconds = serializers.SerializerMethodField(help_text="Time since the request: the SLA clock.")
    approvals = serializers.IntegerField(source="approval_count")
    approvals_required = serializers.IntegerField()
    approved_by = serializers.ListField(child=serializers.CharField(), help_text="Who approved, in order.")
    awaiting_second_approval = serializers.BooleanField()
    risk_flags = serializers.ListField(child=serializers.ChoiceField(choices=FLAGS), help_text=RISK_FLAGS_HELP)
    payment_method = MethodRefSerializer(allow_null=True, help_text="The destination; null for one without.")

    def get_amount(self, withdrawal) -> str:
        return money_text(withdrawal.amount, withdrawal.currency)

    def get_age_seconds(self, withdrawal) -> int:
        return int((timezone.now() - withdrawal.created_at).total_seconds())


class QueuePageSerializer(NumberedPageSerializer):
    counts_by_state = serializers.DictField(child=serializers.IntegerField())
    results = OperatorWithdrawalSerializer(many=True)


class QueueQuerySerializer(serializers.Serializer):
    state = serializers.CharField(required=False, help_text="One state or several, comma-separated.")
    player = serializers.CharField(required=False, max_length=150, help_text="Player id, username or name.")
    currency = serializers.CharField(required=False, max_length=3)
    min_amount = AmountField(required=False, help_text="Decimal string; needs currency.")
    max_amount = AmountField(required=False, help_text="Decimal string; needs currency.")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    awaiting_second_approval = serializers.BooleanField(required=False, allow_null=True, default=None)
    flag = serializers.CharField(
        required=False,
        help_text=f"Withdrawals carrying this risk flag (several, comma-separated: any of them). {', '.join(FLAGS)}.",
    )
    ordering = serializers.ChoiceField(
        choices=["created_at", "-created_at", "amount", "-amount"], required=False, default="created_at"
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    def validate_state(self, value):
        states = tuple(s.strip() for s in value.split(",") if s.strip())
        unknown = [s for s in states if s not in WithdrawalState.values]
        if unknown:
            raise serializers.ValidationError(f"Unknown states: {', '.join(unknown)}.")
        return states

    def validate_flag(self, value):
        flags = tuple(f.strip() for f in value.split(",") if f.strip())
        unknown = [f for f in flags if f not in FLAGS]
        if unknown:
            raise serializers.ValidationError(f"Unknown risk flags: {', '.join(unknown)}.")
        return flags


class CurrencyLimitSerializer(serializers.Serializer):
    currency = serializers.CharField(max_length=3)
    daily_deposit_limit = AmountField(required=False, allow_null=True)
    daily_withdraw_limit = AmountField(required=False, allow_null=True)
    min_amount = AmountField(required=False, allow_null=True)
    max_amount = AmountField(required=False, allow_null=True)
    four_eyes_amount = AmountField(required=False, allow_null=True)
    kyc_deposit_threshold = AmountField(
        required=False, allow_null=True, help_text="Completed deposits from which further deposits need KYC."
    )
    auto_approve_below = AmountField(
        required=False,
        allow_null=True,
        help_text="Flag-free withdrawals of verified players below this are approved automatically; null: none.",
    )


class PaymentPolicySerializer(serializers.Serializer):
    """A field left out keeps its value (also inside a listed currency): no client loosens what it does not know."""

    tenant = serializers.CharField(read_only=True)
    payout_retry_limit = serializers.IntegerField(min_value=1, max_value=20)
    payout_cooldown_seconds = serializers.IntegerField(min_value=0, max_value=7 * 86400)
    limit_increase_cooldown_hours = serializers.IntegerField(
        min_value=0, max_value=24 * 90, required=False, help_text="Cooling-off before a player's raised limit applies."
    )
    kyc_required_for_withdrawal = serializers.BooleanField(required=False)
    player_cancel_allowed = serializers.BooleanField(required=False, help_text="false: no reverse withdrawals.")
    closed_loop = serializers.BooleanField(
        required=False,
        help_text="Withdrawals go back to the methods that deposited, up to each one's net deposits; turning it off "
        "loosens the policy (maker-checker).",
    )
    velocity_withdrawals_per_day = serializers.IntegerField(
        min_value=1, max_value=100, required=False, help_text="More requests than this in 24 hours: flag velocity."
    )
    game_round_idle_minutes = serializers.IntegerField(
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
        help_text="A game round without a bet, win or rollback this long is closed (takes no more bets).",
    )
    currency_limits = CurrencyLimitSerializer(many=True)
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why the policy changes; required when anything changes (REVIEW_REASON_REQUIRED).",
    )


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    currency = serializers.CharField(allow_null=True)
    before = serializers.JSONField(allow_null=True, help_text="Decimal text for amounts, numbers otherwise.")
    after = serializers.JSONField(allow_null=True)


class PolicyChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["pending_approval", "approved", "rejected", "expired"])
    changes = FieldChangeSerializer(many=True)
    reason = serializers.CharField()
    requested_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()


class PolicyChangeListSerializer(serializers.Serializer):
    results = PolicyChangeSerializer(many=True)


class PostingSerializer(serializers.Serializer):
    account = serializers.CharField()
    wallet_id = serializers.IntegerField(allow_null=True)
    amount = serializers.IntegerField(help_text="Minor units, signed.")
    balance_after = serializers.IntegerField(allow_null=True)


class LedgerEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_type = serializers.CharField()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    postings = PostingSerializer(many=True, source="postings.all")


class HistorySerializer(serializers.Serializer):
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor_type = serializers.CharField()
    actor_label = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class ApprovalSerializer(serializers.Serializer):
    operator = serializers.IntegerField(source="operator_id")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class PayoutAttemptSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.IntegerField()
    status = serializers.CharField()
    provider = serializers.CharField()
    provider_reference = serializers.CharField()
    failure_reason = serializers.CharField()
    dispatch_count = serializers.IntegerField()
    outcome_unknown = serializers.BooleanField()
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class WebhookEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    provider = serializers.CharField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    outcome = serializers.CharField()
    outcome_detail = serializers.CharField()
    received_at = serializers.DateTimeField()
    payload = serializers.CharField()


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant = serializers.IntegerField(source="tenant_id", allow_null=True)
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor_type = serializers.CharField()
    actor_label = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    reason = serializers.CharField()
    before_state = serializers.CharField()
    after_state = serializers.CharField()
    data = serializers.JSONField()
    request_id = serializers.CharField()
    ip = serializers.CharField(allow_null=True)


class AuditPageSerializer(serializers.Serializer):
    results = AuditEventSerializer(many=True)
    next = serializers.CharField(allow_null=True)


class SnapshotTransactionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField(source="TX_TYPE")
    reference = serializers.CharField()
    tenant = serializers.CharField(source="tenant.slug")
    player = PlayerRefSerializer()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    state = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    risk_flags = serializers.SerializerMethodField(help_text=f"{RISK_FLAGS_HELP} Always empty for a deposit.")
    payment_method = MethodRefSerializer(
        allow_null=True, help_text="A deposit: what the player paid with; a withdrawal: its destination."
    )

    def get_amount(self, tx) -> str:
        return money_text(tx.amount, tx.currency)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=FLAGS)))
    def get_risk_flags(self, tx):
        return list(getattr(tx, "risk_flags", None) or [])


class SnapshotWalletSerializer(serializers.Serializer):
    currency = serializers.CharField()
    available = serializers.SerializerMethodField()
    held = serializers.SerializerMethodField()

    def get_available(self, wallet) -> str:
        return money_text(wallet.balance_available, wallet.currency)

    def get_held(self, wallet) -> str:
        return money_text(wallet.balance_held, wallet.currency)

    receivable = serializers.SerializerMethodField(help_text="Owed to the casino after chargebacks.")

    def get_receivable(self, wallet) -> str:
        return money_text(wallet.balance_receivable, wallet.currency)


class SnapshotSerializer(serializers.Serializer):
    transaction = SnapshotTransactionSerializer()
    wallet = SnapshotWalletSerializer(allow_null=True)
    history = HistorySerializer(many=True)
    approvals = ApprovalSerializer(many=True)
    ledger_entries = LedgerEntrySerializer(many=True)
    payout_attempts = PayoutAttemptSerializer(many=True)
    webhook_events = WebhookEventSerializer(many=True)
    audit_events = AuditEventSerializer(many=True)
