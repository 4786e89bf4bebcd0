"""GET and PUT limits/: the player's own deposit and loss limits, lowered at once, raised after a cooling-off."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from players.models import PlayerLimit
from tenants.models import PaymentPolicy

from .helpers import (
    LIMITS,
    assert_problem,
    assert_validation_error,
    client_for,
    deposit_request,
    page_session_client,
    put_limit,
)

pytestmark = pytest.mark.django_db


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _limits(client) -> list[dict]:
    response = client.get(LIMITS)
    assert response.status_code == 200, response.content[:300]
    assert set(response.json()) == {"limits"}
    return response.json()["limits"]


def test_a_player_without_limits_has_an_empty_list(api):
    assert _limits(api) == []


def test_setting_a_limit_applies_at_once_and_is_listed(api, player):
    # when the player sets a daily deposit limit of 100.00 EUR
    response = put_limit(api, amount="100.00")
    # then it is in force at once, nothing waits, and it is listed and audited
    assert response.status_code == 200
    expected = {"currency": "EUR", "kind": "deposit", "period": "day", "amount": "100.00", "pending": None}
    assert response.json() == expected
    assert _limits(api) == [expected]
    assert AuditEvent.objects.filter(action="player_limit.set", target_id=str(player.pk)).count() == 1


def test_a_deposit_over_the_limit_is_refused_with_its_fields(api):
    # given a daily deposit limit of 100.00 EUR
    put_limit(api, amount="100.00")
    # when the player deposits 150.00
    response = deposit_request(api, "150.00")
    # then it is refused with the limit, what was used and what was asked
    body = assert_problem(response, 422, "PLAYER_LIMIT_EXCEEDED")
    assert {k: body[k] for k in ("kind", "period", "limit", "used", "requested", "currency")} == {
        "kind": "deposit",
        "period": "day",
        "limit": "100.00",
        "used": "0.00",
        "requested": "150.00",
        "currency": "EUR",
    }


@pytest.mark.parametrize(("new", "pending"), [("250.00", "250.00"), (None, None)], ids=["raise", "removal"])
def test_a_raise_or_removal_waits_for_the_cooling_off_and_shows_when(api, tenant, new, pending):
    # given a casino whose cooling-off is 48 hours and a limit of 100.00
    PaymentPolicy.objects.filter(tenant=tenant).update(limit_increase_cooldown_hours=48)
    put_limit(api, amount="100.00")
    # when the player raises (or removes) it
    before = timezone.now()
    response = put_limit(api, amount=new)
    # then 100.00 stays in force, and the change waits 48 hours, shown with the moment it applies
    assert response.status_code == 200
    body = response.json()
    assert body["amount"] == "100.00"
    assert body["pending"]["amount"] == pending
    assert body["pending"]["effective_at"].endswith("Z")
    effective = _at(body["pending"]["effective_at"])
    assert before + timedelta(hours=48) <= effective <= timezone.now() + timedelta(hours=48)
    assert _limits(api) == [body]
    # and the lower limit still refuses a deposit over it
    assert_problem(deposit_request(api, "150.00"), 422, "PLAYER_LIMIT_EXCEEDED")


def test_asking_again_for_the_waiting_raise_keeps_its_date(api):
    # given a raise waiting
    put_limit(api, amount="100.00")
    first = put_limit(api, amount="250.00").json()
    # when the same PUT is sent again (a retry: PUT needs no Idempotency-Key)
    again = put_limit(api, amount="250.00")
    # then the answer and the limit are the same: the cooling-off did not start over
    assert again.status_code == 200
    assert again.json() == first


@pytest.mark.parametrize("lower", ["80.00", "100.00"], ids=["lower", "same-as-in-force"])
def test_a_decrease_cancels_a_waiting_raise(api, player, lower):
    # given a limit of 100.00 and a raise to 250.00 waiting
    put_limit(api, amount="100.00")
    assert put_limit(api, amount="250.00").json()["pending"] is not None
    # when the player sets it to 80.00 (or back to the 100.00 in force)
    response = put_limit(api, amount=lower)
    # then that limit is in force at once and nothing waits any more
    assert response.json() == {"currency": "EUR", "kind": "deposit", "period": "day", "amount": lower, "pending": None}
    assert _limits(api) == [response.json()]
    assert not PlayerLimit.objects.get(player=player).pending


def test_a_raise_past_its_cooling_off_is_in_force(api, player):
    # given a raise whose cooling-off is over
    put_limit(api, amount="100.00")
    put_limit(api, amount="250.00")
    PlayerLimit.objects.filter(player=player).update(pending_effective_at=timezone.now() - timedelta(minutes=1))
    # then 250.00 is the limit and nothing waits
    assert _limits(api) == [
        {"currency": "EUR", "kind": "deposit", "period": "day", "amount": "250.00", "pending": None}
    ]


def test_loss_limits_and_each_period_and_currency_are_kept_apart(api):
    # when the player sets a monthly loss limit in EUR, a weekly deposit limit in JPY and a daily one in EUR
    assert put_limit(api, kind="loss", period="month", amount="500.00").status_code == 200
    assert put_limit(api, currency="JPY", period="week", amount="20000").status_code == 200
    assert put_limit(api, amount="50.00").status_code == 200
    # then all three are listed, each with its own amount in its currency's format
    assert [(row["currency"], row["kind"], row["period"], row["amount"]) for row in _limits(api)] == [
        ("EUR", "deposit", "day", "50.00"),
        ("EUR", "loss", "month", "500.00"),
        ("JPY", "deposit", "week", "20000"),
    ]


def test_removing_a_limit_that_is_not_there_changes_nothing(api, player):
    response = put_limit(api, amount=None)
    assert response.status_code == 200
    assert response.json() == {"currency": "EUR", "kind": "deposit", "period": "day", "amount": None, "pending": None}
    assert _limits(api) == []
    assert not AuditEvent.objects.filter(action__startswith="player_limit.").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 100}, "amount"),  # a JSON number, never coerced
        ({"amount": 100.5}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"amount": " 5.00"}, "amount"),
        ({"amount": "12345678901234567.00"}, "amount"),
        ({"currency": "JPY", "amount": "1.50"}, "amount"),
        ({"kind": "bet"}, "kind"),
        ({"period": "year"}, "period"),
        ({"currency": "GBP"}, "currency"),  # a currency the casino does not accept
        ({"currency": "XXX"}, "currency"),
    ],
)
def test_an_invalid_limit_is_refused_and_nothing_is_stored(api, change, field):
    body = {"currency": "EUR", "kind": "deposit", "period": "day", "amount": "100.00", **change}
    response = api.put(LIMITS, body, format="json")
    assert_validation_error(response, field)
    assert not PlayerLimit.objects.exists()


@pytest.mark.parametrize("missing", ["currency", "kind", "period", "amount"])
def test_every_member_is_required(api, missing):
    body = {"currency": "EUR", "kind": "deposit", "period": "day", "amount": "100.00"}
    del body[missing]
    assert_validation_error(api.put(LIMITS, body, format="json"), missing)


def test_a_player_sees_and_sets_only_their_own_limits(api, player, other_player, foreign_player):
    # given limits of another player of the casino and of a player of another casino
    put_limit(client_for(other_player), amount="10.00")
    put_limit(client_for(foreign_player), kind="loss", amount="20.00")
    # then the player sees none of them, and setting their own leaves the others as they were
    assert _limits(api) == []
    put_limit(api, amount="100.00")
    assert [row["amount"] for row in _limits(client_for(other_player))] == ["10.00"]
    assert [row["amount"] for row in _limits(client_for(foreign_player))] == ["20.00"]
    assert PlayerLimit.objects.get(player=player).amount == 100_00


def test_the_player_pages_session_token_works_like_the_api_token(player):
    # given the token the player page gives its script
    page = page_session_client(player)
    # then it sets and reads the limits, and the player's API token sees the same
    assert put_limit(page, amount="75.00").status_code == 200
    assert _limits(page) == _limits(client_for(player))
    assert _limits(page)[0]["amount"] == "75.00"


def test_no_token_is_401_and_post_is_not_a_method_here(api, client):
    assert_problem(client.get(LIMITS), 401, "AUTHENTICATION_REQUIRED")
    assert_problem(client.put(LIMITS, {}, content_type="application/json"), 401, "AUTHENTICATION_REQUIRED")
    assert_problem(api.post(LIMITS, {}, format="json"), 405, "METHOD_NOT_ALLOWED")
