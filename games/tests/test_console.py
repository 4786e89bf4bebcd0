"""The console's game providers page: admins only, secrets shown once, rotation, retirement, deactivation."""

import re

import pytest

from backoffice.tests.console.helpers import messages_after, sign_in, text_of
from core.models import AuditEvent
from games.models import GameProviderAccount, GameProviderSecret

pytestmark = pytest.mark.django_db
PAGE = "/console/game-providers/"


def _form_token(page) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)


def _create(client, slug="acme-slots", name="Acme Slots"):
    token = _form_token(client.get(PAGE))
    return client.post(PAGE, {"slug": slug, "name": name, "form_token": token})


def test_only_admins_see_the_page(viewer, finance, admin):
    assert sign_in(viewer).get(PAGE).status_code == 403
    assert sign_in(finance).get(PAGE).status_code == 403
    page = sign_in(admin).get(PAGE)
    assert page.status_code == 200
    assert "Game providers" in text_of(page)
    # the menu offers it to admins only
    assert 'href="/console/game-providers/"' in page.content.decode()
    assert 'href="/console/game-providers/"' not in sign_in(finance).get("/console/withdrawals/").content.decode()


def test_an_admin_makes_an_account_and_sees_its_secret_once(admin, tenant):
    client = sign_in(admin)
    response = _create(client)
    assert messages_after(client, response) == ["Game provider account “acme-slots” made."]
    account = GameProviderAccount.objects.get(slug="acme-slots")
    (secret,) = account.secrets.all()
    assert account.tenant == tenant
    # shown on the page the creation led to ... (messages_after fetched it; fetch the same way again)
    client2 = sign_in(admin)
    response = _create(client2, slug="other-slots", name="Other")
    shown = client2.get(response["Location"])
    other = GameProviderSecret.objects.get(account__slug="other-slots")
    assert other.secret in shown.content.decode()
    # ... and never again
    again = client2.get(PAGE).content.decode()
    assert other.secret not in again and secret.secret not in again
    assert other.prefix in again
    event = AuditEvent.objects.get(action="game_provider.created", target_id=str(account.pk))
    assert event.data["secret"] == secret.prefix and secret.secret not in str(event.data)


def test_a_double_submit_makes_one_account(admin):
    client = sign_in(admin)
    token = _form_token(client.get(PAGE))
    client.post(PAGE, {"slug": "acme-slots", "name": "Acme", "form_token": token})
    client.post(PAGE, {"slug": "acme-slots-2", "name": "Acme", "form_token": token})
    assert GameProviderAccount.objects.count() == 1


def test_a_taken_slug_is_refused(admin, tenant):
    client = sign_in(admin)
    _create(client)
    messages = messages_after(client, _create(client))
    assert messages == ["Please correct the form: This slug is taken."]


def test_rotate_then_retire_the_old_secret(admin, account_and_secret):
    account, old_value = account_and_secret
    client = sign_in(admin)
    response = client.post(f"{PAGE}{account.pk}/rotate/")
    page = client.get(response["Location"]).content.decode()
    new = account.secrets.order_by("-id").first()
    assert new.secret in page and old_value not in page
    assert account.secrets.filter(retired_at__isnull=True).count() == 2
    old = account.secrets.exclude(pk=new.pk).get()
    response = client.post(f"{PAGE}{account.pk}/secrets/{old.pk}/retire/")
    assert messages_after(client, response) == [f"Secret {old.prefix}… retired: calls signed with it are refused."]
    old.refresh_from_db()
    assert old.retired_at is not None
    assert AuditEvent.objects.filter(action="game_provider.secret_retired").count() == 1
    # the last one cannot be retired
    response = client.post(f"{PAGE}{account.pk}/secrets/{new.pk}/retire/")
    assert messages_after(client, response) == [
        "Please correct the form: This is the account's only active secret; make a new one (rotate) before retiring it."
    ]
    new.refresh_from_db()
    assert new.retired_at is None


def test_deactivate_needs_a_reason(admin, account):
    client = sign_in(admin)
    assert messages_after(client, client.post(f"{PAGE}{account.pk}/deactivate/", {"reason": " "})) == [
        "Say why the account is deactivated."
    ]
    client.post(f"{PAGE}{account.pk}/deactivate/", {"reason": "contract ended"})
    account.refresh_from_db()
    assert not account.is_active
    assert AuditEvent.objects.get(action="game_provider.deactivated").reason == "contract ended"


def test_another_casinos_account_is_not_found(account, other_tenant):
    from wallet.tests.staff import ADMIN, operator_user

    stranger = sign_in(operator_user(other_tenant, ADMIN))
    assert stranger.post(f"{PAGE}{account.pk}/rotate/").status_code == 404
    assert stranger.post(f"{PAGE}{account.pk}/deactivate/", {"reason": "x"}).status_code == 404
    assert account.slug not in stranger.get(PAGE).content.decode()
    assert account.secrets.count() == 1


def test_the_django_admin_shows_no_secret(client, account_and_secret, superuser):
    account, secret = account_and_secret
    client.force_login(superuser)
    page = client.get(f"/admin/games/gameprovideraccount/{account.pk}/change/")
    assert page.status_code == 200
    assert secret not in page.content.decode()
    assert client.get("/admin/games/gametransaction/").status_code == 200
    assert client.get("/admin/games/gameround/").status_code == 200
