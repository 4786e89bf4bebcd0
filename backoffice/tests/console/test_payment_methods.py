"""The console shows a player's payment methods: label, kind, fingerprint (and who else has it),
whether they receive payouts and their net deposits; on the player page and beside decisions."""

import pytest

from players.tests.factories import PlayerFactory
from wallet.tests.factories import bank_account, card, deposit_with, funded_method

from .helpers import text_of

pytestmark = pytest.mark.django_db


def test_the_player_page_lists_the_players_methods_with_net_deposits_and_shared_fingerprints(
    console, viewer, player, tenant, other_tenant
):
    # given a card (also used by another player of the casino, and by a player of another casino)
    # and a prepaid card that cannot receive payouts
    visa = funded_method(player, 30_00, card("4000056655665556"))
    funded_method(PlayerFactory(tenant=tenant), 5_00, card("4000056655665556"))
    funded_method(PlayerFactory(tenant=other_tenant), 5_00, card("4000056655665556"))
    prepaid = funded_method(player, 7_50, card("5200828282828210", payout_capable=False))
    iban = funded_method(PlayerFactory(tenant=tenant), 1_00, bank_account())
    # when a viewer opens the player's page
    response = console(viewer).get(f"/console/players/{player.pk}/")
    # then both methods are listed with their fingerprint, payouts and net deposits
    assert response.status_code == 200
    html, text = response.content.decode(), text_of(response)
    assert f'data-method="{visa.pk}"' in html and f'data-method="{prepaid.pk}"' in html
    assert f'data-method="{iban.pk}"' not in html
    assert "Visa •••• 5556" in text and "4000056655665556" in text and "30.00 EUR" in text
    assert "also used by 1 other player" in text  # the other casino's player is not counted
    assert "cannot receive payouts" in text and "7.50 EUR" in text


def test_a_player_without_methods_says_so(console, viewer, player):
    assert "No payment method recorded yet." in text_of(console(viewer).get(f"/console/players/{player.pk}/"))


def test_the_withdrawal_page_shows_the_destination_and_the_closed_loop_figures(console, finance, player):
    # given a card that brought 50.00 and a bank account that brought 30.00, and a withdrawal of 20.00 to the card
    from wallet.services import request_withdrawal
    from wallet.tests.builders import player_of

    visa = funded_method(player, 50_00, card())
    iban = funded_method(player, 30_00, bank_account())
    withdrawal = request_withdrawal(
        player=player, amount=20_00, currency="EUR", actor=player_of(player), payment_method=visa
    )
    # when finance opens the withdrawal
    response = console(finance).get(f"/console/withdrawals/{withdrawal.pk}/")
    # then it names the destination and what each method may receive now (the request counts as on its way)
    assert response.status_code == 200
    html, text = response.content.decode(), text_of(response)
    assert 'data-testid="destination-method"' in html and "Visa •••• 4242" in text
    assert "Closed loop in EUR" in text
    assert f'data-method="{visa.pk}" class="chosen"' in html and f'data-method="{iban.pk}"' in html
    assert "30.00 EUR" in text  # the card's net deposits now: 50.00 less the 20.00 on its way
    assert "New payment method: first used in the last 24 hours" in text


def test_the_review_queue_filters_by_the_new_flags(console, finance, player, tenant):
    from wallet.services import request_withdrawal
    from wallet.tests.builders import player_of

    visa = funded_method(player, 50_00, card())
    funded_method(PlayerFactory(tenant=tenant), 5_00, card())
    shared = request_withdrawal(
        player=player, amount=10_00, currency="EUR", actor=player_of(player), payment_method=visa
    )
    html = console(finance).get("/console/withdrawals/?state=requested&flag=shared_payment_method").content.decode()
    assert shared.reference in html


def test_the_player_page_shows_what_a_chargeback_left_owed_and_the_restriction(console, finance, player):
    from wallet.services import charge_back_deposit, request_withdrawal
    from wallet.tests.builders import PSP, player_of

    disputed = deposit_with(player, 100_00, method=card())
    waiting = request_withdrawal(
        player=player, amount=80_00, currency="EUR", actor=player_of(player), payment_method=disputed.payment_method
    )
    charge_back_deposit(disputed, actor=PSP)
    page = console(finance).get(f"/console/players/{player.pk}/")
    text = text_of(page)
    assert 'data-testid="restricted-badge"' in page.content.decode()
    assert "Restricted: owes the casino" in text and "80.00 EUR" in text
    # and beside the waiting withdrawal, finance is told why approving will be refused
    decision_page = text_of(console(finance).get(f"/console/withdrawals/{waiting.pk}/"))
    assert "approve and mark paid are refused until repaid; rejecting repays" in decision_page


RESTRICTED_NOTE = "The player's account is restricted: a chargeback left them owing the casino."


def test_while_the_player_owes_the_casino_approve_and_mark_paid_are_not_offered(console, finance, finance2, player):
    # the service would refuse them (PLAYER_ACCOUNT_RESTRICTED): the page offers only reject, and says why
    from wallet.services import approve_withdrawal, charge_back_deposit, request_withdrawal
    from wallet.tests.builders import PSP, REASON, operator_of, player_of

    disputed = deposit_with(player, 100_00, method=card())
    waiting, approved = (
        request_withdrawal(
            player=player,
            amount=amount,
            currency="EUR",
            actor=player_of(player),
            payment_method=disputed.payment_method,
        )
        for amount in (30_00, 40_00)
    )
    approve_withdrawal(approved, actor=operator_of(player.tenant), reason=REASON)
    charge_back_deposit(disputed, actor=PSP)  # takes the 30.00 available; 70.00 owed
    for withdrawal, held_back, offered in ((waiting, "approve", "reject"), (approved, "mark-paid", None)):
        response = console(finance).get(f"/console/withdrawals/{withdrawal.pk}/")
        html = response.content.decode()
        assert f'data-testid="form-{held_back}"' not in html
        assert offered is None or f'data-testid="form-{offered}"' in html
        assert RESTRICTED_NOTE in text_of(response)
    # nor is a failed payout retried while its player owes: its money is still held here (reject repays)
    from players.tests.factories import PlayerFactory
    from wallet.models import Deposit
    from wallet.tests.builders import withdrawal_in_state

    other = PlayerFactory(tenant=player.tenant)
    failed = withdrawal_in_state("payout_failed", player=other)
    assert (
        'data-testid="form-retry-payout"' in console(finance).get(f"/console/withdrawals/{failed.pk}/").content.decode()
    )
    charge_back_deposit(Deposit.objects.get(player=other), actor=PSP)  # the held 25.00 is owed
    html = console(finance).get(f"/console/withdrawals/{failed.pk}/").content.decode()
    assert 'data-testid="form-retry-payout"' not in html and 'data-testid="form-reject"' in html
    # once a deposit repays what is owed, approving is offered again
    deposit_with(player, 70_00, method=card())
    response = console(finance2).get(f"/console/withdrawals/{waiting.pk}/")
    assert 'data-testid="form-approve"' in response.content.decode() and RESTRICTED_NOTE not in text_of(response)
