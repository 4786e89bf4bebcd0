"""Operator API representations of players: search results, the player's page, KYC and exclusions.

Amounts are decimal strings with their currency, like the rest of the operator API.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import money_text
from core.api.pagination import NumberedPageSerializer
from players.models import Exclusion, KycStatus, LimitKind, LimitPeriod
from wallet.models import DepositState, PaymentMethodKind, WithdrawalState
from wallet.risk import FLAGS

from .serializers import SnapshotWalletSerializer

RISK_FLAG = serializers.ChoiceField(choices=FLAGS)


class PlayerQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=150,
        default="",
        help_text="Part of the username or name, the external reference, or the player's number.",
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class PlayerSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()
    external_ref = serializers.CharField()
    tenant = serializers.CharField(source="tenant.slug")
    kyc_status = serializers.ChoiceField(choices=KycStatus.choices)
    created_at = serializers.DateTimeField()


class PlayerPageSerializer(NumberedPageSerializer):
    results = PlayerSummarySerializer(many=True)


class MethodNetSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField()

    def to_representation(self, pair):
        currency, amount = pair
        return {"currency": currency, "amount": money_text(amount, currency)}


class PlayerBalanceSerializer(SnapshotWalletSerializer):
    """A wallet's balances, as a withdrawal's snapshot shows them (its own schema component)."""

    receivable = serializers.SerializerMethodField(help_text="Owed to the casino after chargebacks.")

    def get_receivable(self, wallet) -> str:
        return money_text(wallet.balance_receivable, wallet.currency)


class RestrictionSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=["receivable"], help_text="A chargeback left the player owing the casino.")
    receivables = MethodNetSerializer(many=True, help_text="What is owed, per currency.")


class KycCheckSerializer(serializers.Serializer):
    from_status = serializers.ChoiceField(choices=KycStatus.choices)
    to_status = serializers.ChoiceField(choices=KycStatus.choices)
    reason = serializers.CharField()
    document_ref = serializers.CharField()
    actor_type = serializers.CharField()
    actor_label = serializers.CharField(help_text="Who changed it.")
    created_at = serializers.DateTimeField()


class KycSerializer(serializers.Serializer):
    """The player's KYC status and its history, newest first (the latest 100 changes)."""

    player = serializers.IntegerField(source="player.pk")
    status = serializers.ChoiceField(choices=KycStatus.choices, source="player.kyc_status")
    updated_at = serializers.DateTimeField(source="player.kyc_updated_at", allow_null=True)
    history = KycCheckSerializer(many=True)


class PlayerPendingLimitSerializer(serializers.Serializer):
    amount = serializers.CharField(allow_null=True, help_text="null: the player removes the limit.")
    effective_at = serializers.DateTimeField(help_text="When it applies (the casino's cooling-off).")


class PlayerLimitSerializer(serializers.Serializer):
    currency = serializers.CharField()
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    period = serializers.ChoiceField(choices=LimitPeriod.choices, help_text="A rolling window ending now.")
    amount = serializers.SerializerMethodField(help_text="In force now; null: none (a raise of none may wait).")
    pending = serializers.SerializerMethodField()

    def get_amount(self, limit) -> str | None:
        return money_text(limit.amount, limit.currency)

    @extend_schema_field(PlayerPendingLimitSerializer(allow_null=True))
    def get_pending(self, limit):
        if not limit.pending:
            return None
        return {
            "amount": money_text(limit.pending_amount, limit.currency),
            "effective_at": serializers.DateTimeField().to_representation(limit.pending_effective_at),
        }


class PlayerExclusionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Exclusion.Kind.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null: permanent, or until lifted.")
    reason = serializers.CharField(help_text="An operator block's reason; empty for the player's own.")
    imposed_by = serializers.CharField(source="actor_label")
    active = serializers.SerializerMethodField()
    liftable = serializers.SerializerMethodField(help_text="An active operator block: an operator may lift it.")
    lifted_at = serializers.DateTimeField(allow_null=True)
    lifted_by = serializers.CharField(source="lifted_by_label")
    lift_reason = serializers.CharField()

    def get_active(self, exclusion) -> bool:
        return bool(getattr(exclusion, "active", False))

    def get_liftable(self, exclusion) -> bool:
        return bool(getattr(exclusion, "liftable", False))


class ExclusionInForceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Exclusion.Kind.choices)
    ends_at = serializers.DateTimeField(allow_null=True)
    exclusion = serializers.IntegerField(
        source="pk", allow_null=True, help_text="null: a listing in the exclusion register, no exclusion of ours."
    )


class ExclusionsSerializer(serializers.Serializer):
    in_force = ExclusionInForceSerializer(
        allow_null=True, help_text="What refuses deposits and play now (the longest active, or the register)."
    )
    active = PlayerExclusionSerializer(many=True)
    past = PlayerExclusionSerializer(many=True, help_text="Ended or lifted, newest first.")


class TotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    deposited = serializers.SerializerMethodField(help_text="Completed deposits.")
    withdrawn = serializers.SerializerMethodField(help_text="Paid withdrawals.")
    net = serializers.SerializerMethodField(help_text="Deposited less withdrawn; negative: the player is ahead.")
    withdrawing = serializers.SerializerMethodField(help_text="Withdrawals still open.")
    deposits = serializers.IntegerField()
    withdrawals = serializers.IntegerField()

    def get_deposited(self, totals) -> str:
        return money_text(totals.deposited, totals.currency)

    def get_withdrawn(self, totals) -> str:
        return money_text(totals.withdrawn, totals.currency)

    def get_net(self, totals) -> str:
        text = money_text(abs(totals.net), totals.currency)
        return f"-{text}" if totals.net < 0 else text

    def get_withdrawing(self, totals) -> str:
        return money_text(totals.withdrawing, totals.currency)


class RecentTransactionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=["deposit", "withdrawal"], source="TX_TYPE")
    reference = serializers.CharField()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    state = serializers.ChoiceField(choices=[*DepositState.choices, *WithdrawalState.choices])
    created_at = serializers.DateTimeField()

    def get_amount(self, tx) -> str:
        return money_text(tx.amount, tx.currency)


class RecentWithdrawalSerializer(RecentTransactionSerializer):
    type = None
    state = serializers.ChoiceField(choices=WithdrawalState.choices)
    risk_flags = serializers.ListField(child=RISK_FLAG, help_text="Computed when it was requested.")


class PlayerPaymentMethodSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="method.pk")
    provider = serializers.CharField(source="method.provider")
    kind = serializers.ChoiceField(source="method.kind", choices=PaymentMethodKind.choices)
    label = serializers.CharField(source="method.label")
    fingerprint = serializers.CharField(source="method.fingerprint")
    payout_capable = serializers.BooleanField(source="method.payout_capable")
    created_at = serializers.DateTimeField(source="method.created_at")
    last_used_at = serializers.DateTimeField(source="method.last_used_at", allow_null=True)
    net_deposited = MethodNetSerializer(many=True, help_text="Completed deposits less withdrawals paid or in flight.")
    shared_with = serializers.IntegerField(
        help_text="Other players of the casino with an instrument of the same fingerprint (shared_payment_method)."
    )


class GameRoundSerializer(serializers.Serializer):
    """One round of play with its totals (applied transactions only)."""

    id = serializers.UUIDField()
    round_id = serializers.CharField(help_text="The provider's round id.")
    game = serializers.CharField(source="game.name")
    provider = serializers.CharField(source="account.slug")
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closed"])
    close_reason = serializers.CharField(help_text='"round_closed", "idle" or blank while open.')
    bets = serializers.SerializerMethodField()
    wins = serializers.SerializerMethodField()
    rolled_back = serializers.SerializerMethodField()
    bet_count = serializers.IntegerField()
    win_count = serializers.IntegerField()
    rollback_count = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_bets(self, r) -> str:
        return money_text(r.bet_total, r.currency)

    def get_wins(self, r) -> str:
        return money_text(r.win_total, r.currency)

    def get_rolled_back(self, r) -> str:
        return money_text(r.rolled_back_total, r.currency)


class PlaySinceDepositSerializer(serializers.Serializer):
    currency = serializers.CharField()
    since = serializers.DateTimeField(help_text="When the latest deposit in this currency completed.")
    bets = serializers.SerializerMethodField()
    bet_count = serializers.IntegerField()
    wins = serializers.SerializerMethodField()
    win_count = serializers.IntegerField()
    rolled_back = serializers.SerializerMethodField()

    def get_bets(self, p) -> str:
        return money_text(p.bets, p.currency)

    def get_wins(self, p) -> str:
        return money_text(p.wins, p.currency)

    def get_rolled_back(self, p) -> str:
        return money_text(p.rolled_back, p.currency)


class GameActivitySerializer(serializers.Serializer):
    rounds = GameRoundSerializer(many=True, help_text="The latest rounds, newest first.")
    since_last_deposit = PlaySinceDepositSerializer(many=True, source="play_since_deposit")


class PlayerDetailSerializer(serializers.Serializer):
    """`source` is a backoffice.player_context.PlayerContext."""

    id = serializers.IntegerField(source="player.pk")
    username = serializers.CharField(source="player.user.username")
    display_name = serializers.CharField(source="player.display_name")
    external_ref = serializers.CharField(source="player.external_ref")
    tenant = serializers.CharField(source="player.tenant.slug")
    created_at = serializers.DateTimeField(source="player.created_at")
    account_age_days = serializers.IntegerField()
    balances = PlayerBalanceSerializer(many=True, source="wallets")
    kyc = serializers.SerializerMethodField()
    limits = PlayerLimitSerializer(many=True, source="protection.limits")
    exclusions = ExclusionsSerializer(source="protection")
    totals = TotalsSerializer(many=True, help_text="Lifetime, per currency.")
    recent_transactions = RecentTransactionSerializer(many=True, source="recent")
    recent_withdrawals = RecentWithdrawalSerializer(many=True, source="previous_withdrawals")
    payment_methods = PlayerPaymentMethodSerializer(many=True, source="methods")
    game_activity = GameActivitySerializer(source="*")
    restriction = serializers.SerializerMethodField(
        help_text="null, or why the player may not withdraw or play (an open receivable after a chargeback)."
    )

    @extend_schema_field(RestrictionSerializer(allow_null=True))
    def get_restriction(self, context):
        if not context.receivables:
            return None
        return RestrictionSerializer({"reason": "receivable", "receivables": context.receivables}).data

    @extend_schema_field(KycSerializer)
    def get_kyc(self, context):
        return KycSerializer({"player": context.player, "history": context.protection.kyc_history}).data


class KycRequestSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=KycStatus.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", help_text="Why; required, never blank."
    )
    document_ref = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="Where the documents are kept."
    )


class BlockRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", help_text="Why; required, never blank."
    )
    days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=3650, help_text="null: until lifted."
    )
