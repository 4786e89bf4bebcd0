"""The money path obeys the player's protections: exclusions, KYC, their own limits, reverse withdrawals.

Every refusal moves nothing (expect_no_change) but the documented refusal audit.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.actors import Actor
from players.errors import KycRequired, PlayerExcluded, PlayerLimitExceeded
from players.exclusions import block_player, exclude_self
from players.limits import set_player_limit
from players.models import KycStatus, PlayerLimit, RegisterListing
from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy
from tenants.tests.factories import TenantFactory
from wallet.errors import WithdrawalCancelDisabled
from wallet.models import Deposit, Wallet
from wallet.protection import net_loss

from .builders import PSP, deposit, deposit_in_state, player_of, set_limits, withdraw, withdrawal_in_state
from .concurrency import errors_of, run_together, successes_of
from .factories import fund
from .invariants import expect_no_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    return PlayerFactory(tenant=TenantFactory(allowed_currencies=["EUR", "USD"]))


def limit(player, amount, *, period="day", kind="deposit", currency="EUR"):
    set_player_limit(player, currency=currency, kind=kind, period=period, amount=amount, actor=player_of(player))


def unverified(player):
    player.kyc_status = KycStatus.UNVERIFIED
    player.save(update_fields=["kyc_status"])
    return player


def backdate(deposit_, **delta):
    Deposit.objects.filter(pk=deposit_.pk).update(created_at=timezone.now() - timedelta(**delta))


# --- exclusions ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["timeout", "self_exclusion", "operator_block", "register"])
def test_an_excluded_player_cannot_deposit_and_nothing_moves(player, how):
    if how == "operator_block":
        block_player(player, actor=Actor.system("tests"), reason="Under review")
    elif how == "register":
        RegisterListing.objects.create(key=player.user.username)
    else:
        exclude_self(player, kind=how, days=30 if how == "timeout" else 180, actor=player_of(player))
    with expect_no_change(audit_actions=("deposit.refused",)), pytest.raises(PlayerExcluded) as refused:
        deposit(player, 10_00)
    assert refused.value.fields["kind"] == how


def test_an_excluded_player_still_withdraws_and_cancels(player):
    fund(player, 100_00)
    exclude_self(player, kind="self_exclusion", permanent=True, actor=player_of(player))
    withdrawal = withdraw(player, 40_00)
    assert withdrawal.state == "requested"
    from wallet.services import cancel_withdrawal

    assert cancel_withdrawal(withdrawal, actor=player_of(player)).state == "canceled"


def test_a_deposit_already_at_the_psp_completes_after_an_exclusion_and_the_next_is_refused(player):
    at_psp = deposit_in_state("pending_provider", player=player, amount=50_00)
    exclude_self(player, kind="timeout", days=7, actor=player_of(player))
    from wallet.services import complete_deposit

    assert complete_deposit(at_psp, actor=PSP).state == "completed"
    assert Wallet.objects.get(player=player, currency="EUR").balance_available == 50_00
    with pytest.raises(PlayerExcluded):
        deposit(player, 10_00)


def test_deposits_resume_when_a_break_ends(player):
    exclusion = exclude_self(player, kind="timeout", days=1, actor=player_of(player))
    with pytest.raises(PlayerExcluded):
        deposit(player, 10_00)
    exclusion.ends_at = timezone.now() - timedelta(seconds=1)
    exclusion.starts_at = exclusion.ends_at - timedelta(days=1)
    exclusion.save(update_fields=["starts_at", "ends_at"])
    assert deposit(player, 10_00).state == "created"


# --- KYC ----------------------------------------------------------------------------------


def test_an_unverified_player_cannot_request_a_withdrawal_and_nothing_is_held(player):
    fund(player, 100_00)
    unverified(player)
    with expect_no_change(audit_actions=("withdrawal.refused",)), pytest.raises(KycRequired) as refused:
        withdraw(player, 10_00)
    assert refused.value.fields["kyc_status"] == "unverified"


def test_without_the_kyc_rule_an_unverified_player_withdraws(player):
    fund(player, 100_00)
    unverified(player)
    PaymentPolicy.objects.filter(tenant=player.tenant).update(kyc_required_for_withdrawal=False)
    assert withdraw(player, 10_00).state == "requested"


def test_the_kyc_deposit_threshold_applies_once_completed_deposits_reach_it(player):
    set_limits(player.tenant, "EUR", kyc_deposit_threshold=100_00)
    unverified(player)
    fund(player, 99_99)
    assert deposit(player, 50_00).state == "created"  # 99.99 deposited: below the threshold
    fund(player, 1)  # 100.00 completed: the threshold is reached
    with expect_no_change(audit_actions=("deposit.refused",)), pytest.raises(KycRequired) as refused:
        deposit(player, 10)
    assert (refused.value.fields["threshold"], refused.value.fields["deposited"]) == ("100.00", "100.00")
    # a verified player deposits on, and another currency has its own count
    assert deposit(player, 10_00, "USD").state == "created"
    player.kyc_status = KycStatus.VERIFIED
    player.save(update_fields=["kyc_status"])
    assert deposit(player, 10).state == "created"


# --- the player's own deposit limits --------------------------------------------------------


def test_a_deposit_over_the_players_limit_is_refused_with_its_figures(player):
    limit(player, 100_00)
    deposit(player, 60_00)
    with expect_no_change(audit_actions=("limit.refused",)), pytest.raises(PlayerLimitExceeded) as refused:
        deposit(player, 50_00)
    assert refused.value.problem_fields() == {
        "kind": "deposit",
        "period": "day",
        "limit": "100.00",
        "used": "60.00",
        "requested": "50.00",
        "currency": "EUR",
    }
    assert deposit(player, 40_00).state == "created"  # exactly to the limit


@pytest.mark.parametrize(
    ("period", "inside", "outside"), [("day", 23, 25), ("week", 24 * 6, 24 * 8), ("month", 24 * 29, 24 * 31)]
)
def test_the_windows_roll(player, period, inside, outside):
    limit(player, 100_00, period=period)
    old, recent = deposit(player, 70_00), deposit(player, 20_00)
    backdate(old, hours=outside)  # fell out of the window
    backdate(recent, hours=inside)  # still in it
    assert deposit(player, 80_00).state == "created"
    with pytest.raises(PlayerLimitExceeded):
        deposit(player, 1)


def test_failed_deposits_do_not_count_and_open_ones_do(player):
    limit(player, 100_00)
    deposit_in_state("failed", player=player, amount=90_00)
    deposit_in_state("pending_provider", player=player, amount=60_00)
    with pytest.raises(PlayerLimitExceeded) as refused:
        deposit(player, 50_00)
    assert refused.value.fields["used"] == "60.00"


def test_a_pending_raise_does_not_help_until_it_applies(player):
    limit(player, 50_00)
    limit(player, 500_00)  # waits 24 hours
    with pytest.raises(PlayerLimitExceeded):
        deposit(player, 60_00)
    PlayerLimit.objects.filter(player=player).update(pending_effective_at=timezone.now() - timedelta(seconds=1))
    assert deposit(player, 60_00).state == "created"


@pytest.mark.django_db(transaction=True)
def test_concurrent_deposits_cannot_both_pass_a_limit_only_one_fits(player):
    limit(player, 100_00)
    outcomes = run_together(2, lambda _i: deposit(player, 60_00))
    assert len(successes_of(outcomes)) == 1
    assert [type(e) for e in errors_of(outcomes)] == [PlayerLimitExceeded]
    assert Deposit.objects.filter(player=player).count() == 1


# --- reverse withdrawals --------------------------------------------------------------------


def test_with_reverse_withdrawals_off_a_player_cannot_cancel_but_an_operator_rejects(player):
    PaymentPolicy.objects.filter(tenant=player.tenant).update(player_cancel_allowed=False)
    withdrawal = withdrawal_in_state("requested", player=player)
    from wallet.services import cancel_withdrawal, reject_withdrawal

    with expect_no_change(), pytest.raises(WithdrawalCancelDisabled):
        cancel_withdrawal(withdrawal, actor=player_of(player))
    assert reject_withdrawal(withdrawal, actor=Actor.system("tests"), reason="duplicate").state == "rejected"


# --- loss counting (enforced by the game wallet) --------------------------------------------


def _post_play(wallet, event: str, amount: int, *, hours_ago: float = 0) -> None:
    """A bet (-), win (+) or rollback (+) on the player's available account against the game house.

    The game wallet's own source rows come with it (issue 15); until then each entry hangs on
    a stand-in deposit, as an entry needs exactly one source. Only postings are counted.
    """
    sign = -1 if event == "bet_placed" else 1
    source = deposit(wallet.player, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wallet_journalentry (tenant_id, currency, event_type, deposit_id, created_at) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            [wallet.tenant_id, wallet.currency, event, source.pk, timezone.now() - timedelta(hours=hours_ago)],
        )
        entry = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO wallet_posting (entry_id, tenant_id, account, wallet_id, amount) VALUES "
            "(%s, %s, 'player_available', %s, %s), (%s, %s, 'game_house', NULL, %s)",
            [entry, wallet.tenant_id, wallet.pk, sign * amount, entry, wallet.tenant_id, -sign * amount],
        )


def test_net_loss_counts_bets_less_wins_and_rollbacks_in_the_window(player):
    wallet = fund(player, 100_00)
    _post_play(wallet, "bet_placed", 30_00)
    _post_play(wallet, "bet_placed", 20_00)
    _post_play(wallet, "win_paid", 15_00)
    _post_play(wallet, "bet_rolled_back", 20_00)
    _post_play(wallet, "bet_placed", 50_00, hours_ago=25)  # outside a day
    since = timezone.now() - timedelta(days=1)
    assert net_loss(wallet, since) == 15_00
    assert net_loss(wallet, timezone.now() - timedelta(days=2)) == 65_00
