"""A player's protection in a real browser: finance verifies the identity, blocks the player and lifts the block."""

import pytest

from core.actors import Actor
from players.exclusions import block_player, lift_block
from players.kyc import set_kyc_status
from players.limits import set_player_limit
from players.models import Exclusion, KycStatus
from players.tests.factories import PlayerFactory
from wallet.tests.builders import withdrawal_in_state

from ..helpers import audit_since, last_audit_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leo(casino, burak):
    """Verified once, his proof of address has since expired (pending); a weekly deposit limit with a raise
    waiting; a block from last month, lifted; one withdrawal, made while he was verified."""
    leo = PlayerFactory(
        tenant=casino, user__username="leo.janssen", display_name="Leo Janssen", kyc_status=KycStatus.UNVERIFIED
    )
    checker, me = Actor.operator(burak), Actor.player(leo.user)
    set_kyc_status(leo, status="verified", actor=checker, reason="ID card checked", document_ref="DMS-2026-0017")
    withdrawal_in_state("requested", player=leo, amount=180_00)
    set_kyc_status(leo, status="pending", actor=checker, reason="Proof of address expired; a new one was asked for")
    set_player_limit(leo, currency="EUR", kind="deposit", period="week", amount=500_00, actor=me)
    set_player_limit(leo, currency="EUR", kind="deposit", period="week", amount=1_000_00, actor=me)
    old = block_player(leo, actor=checker, reason="Chargeback on a card deposit")
    lift_block(old, actor=checker, reason="The bank withdrew the chargeback")
    return leo


def test_finance_verifies_blocks_and_lifts(open_console, anna, leo):
    console = open_console(anna)
    page = console.page
    mark = last_audit_id()
    # when anna finds Leo in the player search and opens his page
    console.submit(page.get_by_role("link", name="Players"))
    search = page.get_by_test_id("player-search")
    search.get_by_role("textbox").fill("leo")
    console.submit(search.get_by_role("button", name="Search"))
    console.submit(page.get_by_role("link", name="Leo Janssen"))
    # then she reads his KYC status and history, his limits with the raise waiting, his past block, his flags
    assert page.get_by_test_id("kyc-badge").inner_text() == "Verification pending"
    history = page.get_by_test_id("kyc-history").inner_text()
    assert "Verified → Verification pending" in history and "DMS-2026-0017" in history
    limit = page.get_by_test_id("limit-EUR-deposit-week").inner_text()
    assert "500.00 EUR" in limit and "1,000.00 EUR" in limit and "applies" in limit
    exclusions = page.get_by_test_id("exclusions")
    assert "None in force." in exclusions.inner_text()
    assert "The bank withdrew the chargeback" in exclusions.inner_text()
    flags = page.get_by_test_id("previous-withdrawals").inner_text()
    assert "First withdrawal" in flags and "KYC status changed in the last 3 days" in flags
    # when she verifies him again with the new document
    kyc = page.get_by_test_id("kyc-form")
    kyc.get_by_label("New status").select_option(label="Verified")
    kyc.get_by_label("Reason").fill("New proof of address checked (utility bill, March)")
    kyc.get_by_label("Document reference (optional)").fill("DMS-2026-0042")
    console.submit(kyc.get_by_role("button", name="Set status"))
    # then the page says so, and the history has her change on top
    assert console.messages() == ["KYC status set to Verified."]
    assert page.get_by_test_id("kyc-badge").inner_text() == "Verified"
    latest = page.get_by_test_id("kyc-history").locator("tbody tr").first.inner_text()
    assert "Verification pending → Verified" in latest and "DMS-2026-0042" in latest and "anna.finance" in latest
    # when she blocks him until further notice
    block = page.get_by_test_id("block-form")
    block.get_by_label("Reason").fill("Affordability check: deposits doubled this week")
    console.submit(block.get_by_role("button", name="Block player"))
    # then he is excluded, the block is in force, and only it can be lifted
    assert console.messages() == ["The player is blocked until the block is lifted: no deposits or play."]
    assert page.get_by_test_id("excluded-badge").is_visible()
    active = Exclusion.objects.get(player=leo, lifted_at__isnull=True)
    lift = page.get_by_test_id(f"lift-{active.pk}")
    assert page.locator("[data-testid^=lift-]").count() == 1
    lift.get_by_label("Reason for lifting").fill("Affordability documents received")
    console.shot("console-player-protection")
    # when she lifts it with that reason
    console.submit(lift.get_by_role("button", name="Lift"))
    # then he may deposit again, and the block reads as lifted by her
    assert console.messages() == ["The block is lifted: the player may deposit and play again."]
    assert page.get_by_test_id("excluded-badge").count() == 0
    row = page.locator(f"[data-exclusion='{active.pk}']").inner_text()
    assert "by anna.finance" in row and "Affordability documents received" in row
    # and each of her acts is in the audit trail, with its reason
    assert [(e.action, e.reason) for e in audit_since(mark)] == [
        ("kyc.status_changed", "New proof of address checked (utility bill, March)"),
        ("exclusion.started", "Affordability check: deposits doubled this week"),
        ("exclusion.lifted", "Affordability documents received"),
    ]
