"""Codes as operators read them: states, statuses, actors, roles, audit actions and object kinds, translated.

The codes stay the contract (API, filters, audit data); the console shows these labels,
in the operator's language, with the code beside them where operators filter by it.
"""

from django.utils.translation import gettext_lazy as _

from core.actors import ActorType
from payouts.models import WebhookEvent
from players.models import Exclusion, KycStatus, LimitKind, LimitPeriod
from reconciliation.models import Finding, FindingType, ReconciliationRun, Severity
from tenants.models import OperatorMembership, PolicyChange, Tenant
from wallet import risk
from wallet.models import Account, DepositState, LedgerEvent, PaymentMethodKind, PayoutAttempt, WithdrawalState

LABELS: dict[str, dict] = {
    "state": {**dict(DepositState.choices), **dict(WithdrawalState.choices)},
    "payout_status": dict(PayoutAttempt.Status.choices),
    "webhook_outcome": dict(WebhookEvent.Outcome.choices),
    "actor": dict(ActorType.choices),
    "role": {**dict(OperatorMembership.Role.choices), "platform": _("Platform")},
    "ledger_event": dict(LedgerEvent.choices),
    "account": dict(Account.choices),
    "severity": dict(Severity.choices),
    "finding_type": dict(FindingType.choices),
    "finding_status": dict(Finding.Status.choices),
    "run_status": dict(ReconciliationRun.Status.choices),
    "policy_change": dict(PolicyChange.State.choices),
    "tenant_status": dict(Tenant.Status.choices),
    "kyc": dict(KycStatus.choices),
    "exclusion_kind": dict(Exclusion.Kind.choices),
    "limit_kind": dict(LimitKind.choices),
    "limit_period": dict(LimitPeriod.choices),
    "method_kind": dict(PaymentMethodKind.choices),
    # What a withdrawal's risk flag tells finance to look at (wallet.risk).
    "risk_flag": {
        risk.FIRST_WITHDRAWAL: _("First withdrawal"),
        risk.VELOCITY: _("Many requests in 24 hours"),
        risk.FAST_CASHOUT: _("Fast cash-out: deposited recently, little play"),
        risk.LARGE: _("Large: two approvals"),
        risk.KYC_CHANGED_RECENTLY: _("KYC status changed in the last 3 days"),
        risk.NEW_PAYMENT_METHOD: _("New payment method: first used in the last 24 hours"),
        risk.SHARED_PAYMENT_METHOD: _("Shared payment method: the same card or account as another customer"),
    },
    "check": {
        "withdrawal_ledger_events": _("Withdrawals against their ledger events"),
        "deposit_ledger_events": _("Deposits against their ledger events"),
        "wallet_balances": _("Wallet balances against the ledger"),
        "journal_entries": _("Journal entries balance"),
        "payout_attempts": _("Payout attempts against their withdrawals"),
        "stuck_transactions": _("Deposits and payouts open too long"),
        "settlement_check": _("The PSP's settlement report"),
        "game_transaction_ledger_events": _("Game transactions against their ledger events"),
        "game_round_totals": _("Game round totals against their transactions"),
        "game_rounds_idle": _("Game rounds open past the idle time"),
        "game_report": _("The game providers' daily reports"),
    },
    "target": {
        "withdrawal": _("Withdrawal"),
        "deposit": _("Deposit"),
        "payoutattempt": _("Payout attempt"),
        "webhookevent": _("PSP webhook"),
        "paymentpolicy": _("Payment policy"),
        "policychange": _("Policy change"),
        "tenant": _("Casino"),
        "player": _("Player"),
        "wallet": _("Wallet"),
        "journalentry": _("Journal entry"),
        "user": _("User"),
        "finding": _("Reconciliation finding"),
        "reconciliationrun": _("Reconciliation run"),
        "paymentmethod": _("Payment method"),
        "gametransaction": _("Game transaction"),
        "gameround": _("Game round"),
    },
}

# A before/after state in the audit trail may be any of these (a KYC change's too).
LABELS["any_state"] = {
    **LABELS["kyc"],
    **LABELS["state"],
    **LABELS["payout_status"],
    **LABELS["finding_status"],
    **LABELS["run_status"],
    **LABELS["policy_change"],
    **LABELS["tenant_status"],
}

ACTIONS = {
    "withdrawal.approval_recorded": _("Withdrawal: one approval recorded"),
    "limit.refused": _("Payment refused by a limit"),
    "payout.retry_refused": _("Payout retry refused"),
    "payout_attempt.created": _("Payout attempt opened"),
    "payout_attempt.sent": _("Payout attempt sent to the provider"),
    "payout_attempt.conflicting_outcome": _("Provider reported a conflicting payout outcome"),
    "webhook.accepted": _("PSP webhook accepted"),
    "webhook.refused": _("PSP webhook refused"),
    "webhook.malformed": _("Signed PSP webhook with an unreadable body"),
    "operator.login": _("Operator signed in"),
    "operator.login_failed": _("Failed sign-in"),
    "operator.second_factor_enrolled": _("Second factor set up"),
    "operator.second_factor_failed": _("Wrong second-factor code"),
    "operator_token.created": _("Operator API token made"),
    "operator_token.revoked": _("Operator API token revoked"),
    "policy.updated": _("Payment policy tightened"),
    "policy.change_requested": _("Policy change requested"),
    "policy.change_approved": _("Policy change approved"),
    "policy.change_rejected": _("Policy change rejected"),
    "policy.change_expired": _("Policy change expired"),
    "reconciliation.run_started": _("Reconciliation started"),
    "reconciliation.run_succeeded": _("Reconciliation finished"),
    "reconciliation.run_failed": _("Reconciliation failed"),
    "reconciliation.run_abandoned": _("Reconciliation run abandoned"),
    "reconciliation.run_refused": _("Reconciliation refused: a run is in progress"),
    "kyc.status_changed": _("KYC status changed"),
    "exclusion.started": _("Exclusion started (break, self-exclusion or operator block)"),
    "exclusion.lifted": _("Operator block lifted"),
    "player_limit.set": _("Player limit set"),
    "player_limit.lowered": _("Player limit lowered"),
    "player_limit.raise_requested": _("Player limit raise requested (waits for the cooling-off)"),
    "player_limit.raise_canceled": _("Pending player limit raise canceled"),
    "deposit.refused": _("Deposit refused (exclusion or KYC)"),
    "withdrawal.refused": _("Withdrawal refused (KYC, closed loop or account restriction)"),
    "withdrawal.auto_approved": _("Withdrawal approved automatically"),
    "payment_method.added": _("Payment method first used"),
}

# Actions named after the state a thing entered: "<kind>.<state>".
FAMILIES = {
    "withdrawal.": (_("Withdrawal"), "state"),
    "deposit.": (_("Deposit"), "state"),
    "payout_attempt.": (_("Payout attempt"), "payout_status"),
    "reconciliation.finding_": (_("Finding"), "finding_status"),
    "tenant.": (_("Casino"), "tenant_status"),
}


def label(kind: str, code) -> str:
    """The translated label of `code` in `kind`; the code itself if none is known."""
    if code in (None, ""):
        return ""
    return str(LABELS[kind].get(str(code), code))


def action_label(action: str) -> str:
    if action in ACTIONS:
        return str(ACTIONS[action])
    for prefix, (thing, kind) in FAMILIES.items():
        rest = action[len(prefix) :] if action.startswith(prefix) else None
        if rest and rest in LABELS[kind]:
            return f"{thing}: {label(kind, rest)}"
    return action
