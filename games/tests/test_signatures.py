"""Signed like webhooks: every call needs the Standard Webhooks signature of its own provider account."""

from datetime import UTC, datetime, timedelta

import pytest

from core.actors import Actor
from core.models import RefusalTally
from games import providers
from games.tests.conftest import new_session
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory
from wallet.tests.factories import fund

from .helpers import ProviderClient, assert_problem, books, sign

pytestmark = pytest.mark.django_db
OPS = Actor.system("tests")


def bet_body(token: str) -> dict:
    return {"session_token": token, "transaction_id": "tx-1", "round_id": "r-1", "amount": "10.00", "currency": "EUR"}


def test_an_unsigned_call_is_refused_and_nothing_happens(provider, token, wallet):
    before = books(wallet)
    body = assert_problem(provider.post("bet", bet_body(token), headers={}), 401, "SIGNATURE_INVALID")
    assert "webhook-id" in body["detail"]
    assert books(wallet) == before


@pytest.mark.parametrize("missing", ["HTTP_WEBHOOK_ID", "HTTP_WEBHOOK_TIMESTAMP", "HTTP_WEBHOOK_SIGNATURE"])
def test_a_call_missing_one_header(provider, token, wallet, missing):
    import json

    from .helpers import signed_headers

    raw = json.dumps(bet_body(token)).encode()
    headers = signed_headers(provider.secret, raw)
    del headers[missing]
    assert_problem(provider.post("bet", raw, headers=headers), 401, "SIGNATURE_INVALID")


def test_a_bad_signature(provider, token, wallet):
    headers = {"HTTP_WEBHOOK_ID": "m1", "HTTP_WEBHOOK_TIMESTAMP": str(int(datetime.now(UTC).timestamp()))}
    headers["HTTP_WEBHOOK_SIGNATURE"] = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    before = books(wallet)
    assert_problem(provider.post("bet", bet_body(token), headers=headers), 401, "SIGNATURE_INVALID")
    assert books(wallet) == before


def test_a_signature_over_another_body(provider, token, wallet):
    import json

    from .helpers import signed_headers

    headers = signed_headers(provider.secret, json.dumps({**bet_body(token), "amount": "1.00"}).encode())
    assert_problem(provider.post("bet", bet_body(token), headers=headers), 401, "SIGNATURE_INVALID")


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_stale_or_future_timestamp(provider, token, wallet, minutes):
    before = books(wallet)
    at = datetime.now(UTC) + timedelta(minutes=minutes)
    assert_problem(provider.post("bet", bet_body(token), at=at), 401, "SIGNATURE_INVALID")
    assert books(wallet) == before


def test_within_the_tolerance_is_fine(provider, token, wallet):
    at = datetime.now(UTC) - timedelta(minutes=4)
    assert provider.post("bet", bet_body(token), at=at).status_code == 200


def test_another_providers_secret(provider, token, wallet, tenant):
    _, other_secret = providers.create_provider_account(tenant, slug="another-studio", name="Another", actor=OPS)
    before = books(wallet)
    assert_problem(provider.post("bet", bet_body(token), secret=other_secret), 401, "SIGNATURE_INVALID")
    assert books(wallet) == before


def test_another_tenants_session_is_unknown_here(client, provider, wallet):
    # given another casino with its own provider account, game and player in a session
    other = TenantFactory(allowed_currencies=["EUR"])
    account, secret = providers.create_provider_account(other, slug="other-slots", name="Other", actor=OPS)
    game = providers.create_game(account, code="slot", name="Slot", launch_url="http://games.test/", actor=OPS)
    player = PlayerFactory(tenant=other)
    theirs = fund(player, 100_00)
    their_token = new_session(player, game).token
    # when this casino's provider, signing correctly, names the other casino's session
    before = books(theirs)
    assert_problem(provider.bet(their_token, "tx-1"), 404, "GAME_SESSION_UNKNOWN")
    assert_problem(provider.balance(their_token), 404, "GAME_SESSION_UNKNOWN")
    # then nothing moved there; their own provider still reaches it
    assert books(theirs) == before
    assert ProviderClient(client, "other-slots", secret).bet(their_token, "tx-1").status_code == 200


def test_an_unknown_or_deactivated_provider(provider, token, wallet, account):
    assert_problem(provider.post("bet", bet_body(token), slug="nobody-here"), 401, "SIGNATURE_INVALID")
    providers.deactivate_provider_account(account, actor=OPS, reason="contract ended")
    assert_problem(provider.bet(token, "tx-1"), 401, "SIGNATURE_INVALID")


def test_refusals_are_tallied_not_audited_one_by_one_and_throttled(provider, token, wallet, settings, refusal_clock):
    settings.REFUSALS_PER_MINUTE = 3
    for _ in range(3):
        assert_problem(provider.post("bet", bet_body(token), headers={}), 401, "SIGNATURE_INVALID")
    tally = RefusalTally.objects.get(action="game.signature_refused")
    assert tally.count == 3
    throttled = assert_problem(provider.post("bet", bet_body(token), headers={}), 429, "RATE_LIMITED")
    assert throttled["retry_after"] >= 1
    # a signed call from that address is still answered
    assert provider.bet(token, "tx-1").status_code == 200


def test_rotation_old_and_new_secrets_both_verify_until_the_old_is_retired(provider, token, wallet, account):
    old = provider.secret
    new_row, new = providers.rotate_secret(account, actor=OPS)
    assert new.startswith("whsec_") and new != old
    assert provider.bet(token, "tx-1", secret=old).status_code == 200
    assert provider.bet(token, "tx-2", round_id="r-2", secret=new).status_code == 200
    # retiring the old one: only the new one verifies
    old_row = account.secrets.exclude(pk=new_row.pk).get()
    providers.retire_secret(account, old_row.pk, actor=OPS)
    assert_problem(provider.bet(token, "tx-3", round_id="r-3", secret=old), 401, "SIGNATURE_INVALID")
    response = provider.bet(token, "tx-4", round_id="r-4", secret=new)
    assert response.status_code == 200, response.content


def test_the_last_active_secret_cannot_be_retired(account):
    from core.errors import ValidationFailed

    (only,) = account.secrets.all()
    with pytest.raises(ValidationFailed):
        providers.retire_secret(account, only.pk, actor=OPS)


def test_the_signature_is_over_the_raw_bytes(provider, token, wallet):
    raw = b'{"session_token":"%s","transaction_id":"tx-1","round_id":"r-1","amount":"1.00","currency":"EUR"}' % (
        token.encode()
    )
    now = int(datetime.now(UTC).timestamp())
    headers = {
        "HTTP_WEBHOOK_ID": "msg-1",
        "HTTP_WEBHOOK_TIMESTAMP": str(now),
        "HTTP_WEBHOOK_SIGNATURE": "v1,bm90IGl0 " + sign(provider.secret, "msg-1", now, raw),  # several, one holds
    }
    assert provider.post("bet", raw, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_WEBHOOK_ID": "m", "HTTP_WEBHOOK_TIMESTAMP": "nan", "HTTP_WEBHOOK_SIGNATURE": "v1,xx"},
        {"HTTP_WEBHOOK_ID": "m", "HTTP_WEBHOOK_TIMESTAMP": "1e400", "HTTP_WEBHOOK_SIGNATURE": "v1,xx"},
        {"HTTP_WEBHOOK_ID": "m", "HTTP_WEBHOOK_TIMESTAMP": "-1", "HTTP_WEBHOOK_SIGNATURE": "garbage"},
        {"HTTP_WEBHOOK_ID": "m" * 5000, "HTTP_WEBHOOK_TIMESTAMP": "0", "HTTP_WEBHOOK_SIGNATURE": "v2,abc v1"},
    ],
)
def test_hostile_headers_are_a_401_never_a_500(provider, token, wallet, headers):
    assert_problem(provider.post("bet", bet_body(token), headers=headers), 401, "SIGNATURE_INVALID")


def test_hostile_paths_bodies_and_methods(client, provider, token, wallet, settings):
    assert_problem(provider.post("bet", bet_body(token), slug="x" * 300), 401, "SIGNATURE_INVALID")
    assert_problem(provider.post("bet", b"\x00\xff" * 10, headers={}), 401, "SIGNATURE_INVALID")
    settings.MAX_REQUEST_BODY_BYTES = 1000
    assert_problem(provider.post("bet", b"{" + b" " * 2000 + b"}"), 413, "PAYLOAD_TOO_LARGE")
    assert_problem(client.get(f"/api/v1/games/{provider.slug}/bet/"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("slug", ["a%00b", "A-Slots", "x" * 70])
def test_a_provider_name_no_account_can_have_is_refused_unsigned_not_a_500(client, slug):
    response = client.post(f"/api/v1/games/{slug}/bet/", data=b"{}", content_type="application/json")
    assert response.status_code == 401, response.content
    assert response.json()["error_code"] == "SIGNATURE_INVALID"
