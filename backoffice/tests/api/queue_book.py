"""A small, known set of withdrawals for the review-queue tests."""

from django.utils import timezone

from players.tests.factories import PlayerFactory
from wallet.tests.builders import withdrawal_in_state


def make_book(tenant) -> dict:
    """Five withdrawals created in this order (w1 oldest), with two time marks between them.

    w1 alice 10.00 EUR requested | t1 | w2 alice 50.00 EUR approved | w3 bob 30.00 USD requested
    | t2 | w4 bob 100.00 EUR rejected | w5 carol 5000 JPY requested
    """
    alice = PlayerFactory(tenant=tenant, user__username="queue-alice", display_name="Alice Andersson")
    bob = PlayerFactory(tenant=tenant, user__username="queue-bob", display_name="Bob Brown")
    carol = PlayerFactory(tenant=tenant, user__username="queue-carol", display_name="Carol Chen")
    book = {"alice": alice, "bob": bob, "carol": carol}
    book["w1"] = withdrawal_in_state("requested", player=alice, amount=10_00)
    book["t1"] = timezone.now()
    book["w2"] = withdrawal_in_state("approved", player=alice, amount=50_00)
    book["w3"] = withdrawal_in_state("requested", player=bob, amount=30_00, currency="USD")
    book["t2"] = timezone.now()
    book["w4"] = withdrawal_in_state("rejected", player=bob, amount=100_00)
    book["w5"] = withdrawal_in_state("requested", player=carol, amount=5000, currency="JPY")
    return book


def names(book: dict, body: dict) -> list[str]:
    """The result rows as w1..w5, in the order the API gave them."""
    by_id = {str(book[name].pk): name for name in ("w1", "w2", "w3", "w4", "w5")}
    return [by_id[row["id"]] for row in body["results"]]
