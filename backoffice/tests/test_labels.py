"""Every code the console shows has a translated label: audit actions, states, statuses."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from backoffice import labels
from reconciliation.models import Finding
from tenants.models import Tenant
from wallet.models import DepositState, PayoutAttempt, WithdrawalState

PRODUCT = ("core", "tenants", "players", "wallet", "payouts", "reconciliation", "backoffice")


def audited_actions() -> set[str]:
    """Every literal audit action the product writes (`action="..."`, or an app's `_audit(..., "...")`)."""
    found = set()
    for app in PRODUCT:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            # only where an action is named: webhook event types and logger names look the same
            text = path.read_text(encoding="utf-8")
            pairs = re.findall(r'\baction="([a-z_]+)\.([a-z_]+)"', text)
            pairs += re.findall(r'\b_audit\((?:[^"()]|\([^()]*\))*?"([a-z_]+)\.([a-z_]+)"', text)
            found |= {f"{kind}.{what}" for kind, what in pairs}
    return found


def test_the_scan_finds_the_product_actions():
    assert {"limit.refused", "webhook.accepted", "policy.change_requested"} <= audited_actions()


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


def test_labels_follow_the_operators_language():
    with translation.override("tr"):
        assert labels.action_label("withdrawal.approved") == "Para çekme: Onaylandı"
        assert labels.label("payout_status", "failed") == "Başarısız"
        assert labels.label("actor", "psp") == "Ödeme sağlayıcısı"
    with translation.override("en"):
        assert labels.label("role", "finance") == "Finance"
        assert labels.label("state", "unknown-code") == "unknown-code"
