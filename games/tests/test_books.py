"""The ledger after play: balanced entries, wallets equal to their postings, reconciliation finds nothing."""

import pytest

from core.actors import Actor
from reconciliation.models import Finding
from reconciliation.services import run_reconciliation

from .helpers import house_balance

pytestmark = pytest.mark.django_db


def test_play_leaves_books_reconciliation_agrees_with(provider, token, wallet, tenant):
    provider.bet(token, "b-1", round_id="r-1", amount="10.00")
    provider.win(token, "w-1", round_id="r-1", amount="4.00", round_closed=True)
    provider.bet(token, "b-2", round_id="r-2", amount="7.00")
    provider.rollback(token, "rb-2", "b-2", amount="7.00")
    provider.rollback(token, "rb-3", "b-3", amount="1.00")  # before its bet
    provider.bet(token, "b-3", round_id="r-3", amount="1.00")  # refused
    provider.bet(token, "b-4", round_id="r-4", amount="500.00")  # refused
    wallet.refresh_from_db()
    assert wallet.balance_available == 100_00 - 10_00 + 4_00
    # the house holds bets - wins - rolled-back bets
    assert house_balance(tenant.pk) == 10_00 + 7_00 - 4_00 - 7_00
    run = run_reconciliation(tenant, actor=Actor.system("tests"))
    assert list(Finding.objects.filter(run=run).values_list("type", "detail")) == []
