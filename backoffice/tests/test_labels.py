"""Every code the console shows has a translated label: audit actions, states, statuses."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from backoffice import labels
from players.models import Exclusion, KycStatus, LimitKind, LimitPeriod
from reconciliation.models import Finding
from tenants.models import Tenant
from wallet.models import DepositState, PayoutAttempt, WithdrawalState
from wallet.risk import FLAGS

PRODUCT = ("core", "tenants", "players", "wallet", "payouts", "reconciliation", "backoffice")


def audited_actions() -> set[str]:
    """Every literal audit action the product writes (`action="..."`, an app's `_audit(..., "...")`, or
    `action = "..."` chosen before the call, both sides of a conditional)."""
    found = set()
    for app in PRODUCT:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            # only where an action is named: webhook event types and logger names look the same
            text = path.read_text(encoding="utf-8")
            pairs = re.findall(r'\baction="([a-z_]+)\.([a-z_]+)"', text)
            pairs += re.findall(r'\b_audit\((?:[^"()]|\([^()]*\))*?"([a-z_]+)\.([a-z_]+)"', text)
            for line in re.findall(r"\baction = (.+)", text):
                pairs += re.findall(r'"([a-z_]+)\.([a-z_]+)"', line)
            found |= {f"{kind}.{what}" for kind, what in pairs}
    return found


def test_the_scan_finds_the_product_actions():
    assert {"limit.refused", "webhook.accepted", "policy.change_requested"} <= audited_actions()
    # player protection: named in a call, through an app's _audit, and chosen before the call
    assert {
        "kyc.status_changed",
        "exclusion.started",
        "exclusion.lifted",
        "player_limit.set",
        "player_limit.lowered",
        "player_limit.raise_requested",
        "player_limit.raise_canceled",
        "deposit.refused",
        "withdrawal.refused",
        "withdrawal.auto_approved",
    } <= audited_actions()


@pytest.mark.parametrize("action", sorted(audited_actions()))
def test_every_literal_audit_action_has_a_label(action):
    assert labels.action_label(action) != action


@pytest.mark.parametrize(
    "action",
    [f"withdrawal.{s}" for s in WithdrawalState.values]
    + [f"deposit.{s}" for s in DepositState.values]
    + [f"payout_attempt.{s}" for s in PayoutAttempt.Status.values]
    + [f"reconciliation.finding_{s}" for s in Finding.Status.values]
    + [f"tenant.{s}" for s in Tenant.Status.values],
)
def test_every_action_named_after_a_state_has_a_label(action):
    assert labels.action_label(action) != action


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        ("risk_flag", FLAGS),
        ("kyc", KycStatus.values),
        ("exclusion_kind", Exclusion.Kind.values),
        ("limit_kind", LimitKind.values),
        ("limit_period", LimitPeriod.values),
    ],
)
def test_player_protection_codes_have_labels_in_both_languages(kind, codes):
    for code in codes:
        with translation.override("en"):
            english = labels.label(kind, code)
        with translation.override("tr"):
            turkish = labels.label(kind, code)
        assert english != code and turkish != code and turkish != english, (kind, code)


def test_a_kyc_change_reads_as_statuses_in_the_audit_trail():
    with translation.override("en"):
        assert labels.label("any_state", "unverified") == "Unverified"
        assert labels.label("any_state", "requested") == "Requested"  # a withdrawal's states are kept


def test_labels_follow_the_operators_language():
    with translation.override("tr"):
        assert labels.action_label("withdrawal.approved") == "Para çekme: Onaylandı"
        assert labels.label("payout_status", "failed") == "Başarısız"
        assert labels.label("actor", "psp") == "Ödeme sağlayıcısı"
    with translation.override("en"):
        assert labels.label("role", "finance") == "Finance"
        assert labels.label("state", "unknown-code") == "unknown-code"
