"""The console's player page: KYC, limits and exclusions shown; finance and admin set the KYC status,
block and lift; each act POST-redirect-GET, once per form, audited; risk flags in the queue and on
the withdrawal page."""

import re

import pytest
from django.test import Client

from core.actors import Actor
from players.exclusions import block_player, exclude_self, lift_block
from players.kyc import set_kyc_status
from players.limits import set_player_limit
from players.models import Exclusion, KycCheck, KycStatus, Player, RegisterListing
from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy, PolicyChange
from wallet.tests.builders import set_limits, withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import expect_no_change

from .helpers import (
    ADMIN,
    FINANCE,
    QUEUE,
    ROLES,
    audit_since,
    detail_url,
    last_audit_id,
    messages_after,
    sign_in,
    text_of,
    token_is_spent,
)

pytestmark = pytest.mark.django_db

DECIDING = (FINANCE, ADMIN)
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def page_url(player) -> str:
    return f"/console/players/{getattr(player, 'pk', player)}/"


def kyc_url(player) -> str:
    return f"{page_url(player)}kyc/"


def block_url(player) -> str:
    return f"{page_url(player)}block/"


def lift_url(player, exclusion) -> str:
    return f"{page_url(player)}exclusions/{getattr(exclusion, 'pk', exclusion)}/lift/"


def form_tokens(response) -> dict[str, str]:
    """The one-time tokens of the page's KYC and block forms."""
    html = response.content.decode()
    found = {}
    for name in ("kyc-form", "block-form"):
        form = html[html.index(f'data-testid="{name}"') :]
        found[name.removesuffix("-form")] = _FORM_TOKEN.search(form).group(1)
    return found


def kyc_of(player) -> str:
    return Player.objects.values_list("kyc_status", flat=True).get(pk=player.pk)


def active_blocks(player) -> int:
    return Exclusion.objects.filter(player=player, kind="operator_block", lifted_at__isnull=True).count()


@pytest.fixture
def ursula(tenant):
    return PlayerFactory(
        tenant=tenant, user__username="ursula", display_name="Ursula Unverified", kyc_status=KycStatus.UNVERIFIED
    )


@pytest.fixture
def protected(ursula, finance):
    """Ursula with money, a KYC history, a limit with a raise waiting, a lifted block, an active block and a break."""
    operator, me = Actor.operator(finance), Actor.player(ursula.user)
    fund(ursula, 100_00)  # before the exclusions, which refuse deposits
    set_kyc_status(ursula, status="pending", actor=operator, reason="Documents asked for", document_ref="REQ-9")
    set_player_limit(ursula, currency="EUR", kind="deposit", period="week", amount=500_00, actor=me)
    set_player_limit(ursula, currency="EUR", kind="deposit", period="week", amount=800_00, actor=me)
    old = block_player(ursula, actor=operator, reason="Chargeback under review")
    lift_block(old, actor=operator, reason="Chargeback withdrawn")
    return {
        "lifted": old,
        "block": block_player(ursula, actor=operator, reason="Affordability check"),
        "break": exclude_self(ursula, kind="timeout", days=7, actor=me),
    }


# --- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_kyc_limits_exclusions_and_flags(role, staff, ursula, protected):
    withdrawal = withdrawal_in_state("requested", player=PlayerFactory(tenant=ursula.tenant))  # someone else's
    set_kyc_status(ursula, status="verified", actor=Actor.operator(staff[FINANCE]), reason="Passport checked")
    mine = withdrawal_in_state("requested", player=ursula, amount=20_00, funded=False)  # exclusions allow it
    response = sign_in(staff[role]).get(page_url(ursula))
    assert response.status_code == 200
    text = text_of(response)
    # KYC: the status and its history with reasons and documents
    assert "Identity (KYC)" in text and "Verified" in text
    assert "Verification pending → Verified" in text and "Unverified → Verification pending" in text
    assert "Documents asked for" in text and "REQ-9" in text
    # limits: in force and the raise waiting, with when it applies
    assert "Deposit limit" in text and "7 days" in text and "500.00 EUR" in text and "800.00 EUR" in text
    assert "applies" in text
    # exclusions: in force, and each with its status
    assert "Excluded: no deposits or play" in text
    assert "Operator block" in text and "Time-out" in text and "until lifted" in text
    assert "Affordability check" in text and "Chargeback withdrawn" in text
    # the risk flags of the player's withdrawals, as labels; not another player's withdrawal
    assert "First withdrawal" in text and mine.reference in text and withdrawal.reference not in text


def test_the_search_shows_each_players_kyc_status(viewer, ursula, player):
    response = sign_in(viewer).get("/console/players/")
    rows = dict(re.findall(r"<tr><td>(\d+)</td>(.*?)</tr>", response.content.decode(), re.S))
    assert "Unverified" in rows[str(ursula.pk)] and "Verified" in rows[str(player.pk)]


def test_a_viewer_gets_no_forms(viewer, ursula, protected):
    response = sign_in(viewer).get(page_url(ursula))
    for testid in ("kyc-form", "block-form", f"lift-{protected['block'].pk}"):
        assert f'data-testid="{testid}"'.encode() not in response.content
    assert "Your role can read but not decide." in text_of(response)


@pytest.mark.parametrize("role", DECIDING)
def test_finance_and_admin_get_the_forms_and_lift_only_active_operator_blocks(role, staff, ursula, protected):
    response = sign_in(staff[role]).get(page_url(ursula))
    assert b'data-testid="kyc-form"' in response.content and b'data-testid="block-form"' in response.content
    lifts = set(re.findall(r'data-testid="lift-(\d+)"', response.content.decode()))
    assert lifts == {str(protected["block"].pk)}  # not the player's break, not the lifted block


def test_a_player_never_checked_and_never_excluded(finance, ursula):
    text = text_of(sign_in(finance).get(page_url(ursula)))
    assert "never checked" in text and "No change yet." in text
    assert "None in force." in text and "No exclusion, ever." in text and "The player has set no limits." in text


def test_a_listing_in_the_exclusion_register_shows(viewer, ursula):
    RegisterListing.objects.create(key="ursula")
    text = text_of(sign_in(viewer).get(page_url(ursula)))
    assert "Excluded: no deposits or play" in text and "National exclusion register" in text


# --- acting: KYC -------------------------------------------------------------------------


@pytest.mark.parametrize("role", DECIDING)
def test_setting_the_kyc_status_redirects_back_with_what_was_done_and_is_audited(role, staff, ursula):
    client, mark = sign_in(staff[role]), last_audit_id()
    tokens = form_tokens(client.get(page_url(ursula)))
    response = client.post(
        kyc_url(ursula),
        {"status": "verified", "reason": "Passport checked", "document_ref": "vault/7", "form_token": tokens["kyc"]},
    )
    assert response.status_code == 302 and response["Location"] == page_url(ursula)
    assert messages_after(client, response) == ["KYC status set to Verified."]
    assert kyc_of(ursula) == "verified"
    check = KycCheck.objects.get(player=ursula)
    assert (check.reason, check.document_ref, check.actor_label) == (
        "Passport checked",
        "vault/7",
        staff[role].username,
    )
    assert [(e.action, e.before_state, e.after_state) for e in audit_since(mark)] == [
        ("kyc.status_changed", "unverified", "verified")
    ]


def test_a_kyc_form_sent_twice_acts_once_and_never_undoes_a_later_change(finance, finance2, ursula):
    client = sign_in(finance)
    token = form_tokens(client.get(page_url(ursula)))["kyc"]
    form = {"status": "verified", "reason": "Passport checked", "form_token": token}
    assert messages_after(client, client.post(kyc_url(ursula), form)) == ["KYC status set to Verified."]
    # a colleague rejects the documents; then the first form is sent again (back button, resubmit)
    set_kyc_status(ursula, status="rejected", actor=Actor.operator(finance2), reason="Forged")
    again = client.post(kyc_url(ursula), form)
    assert messages_after(client, again) == ["This form was already submitted; it was not done twice."]
    assert kyc_of(ursula) == "rejected" and KycCheck.objects.filter(player=ursula).count() == 2


def test_the_same_kyc_status_again_says_nothing_changed(finance, player):
    client = sign_in(finance)
    token = form_tokens(client.get(page_url(player)))["kyc"]
    response = client.post(kyc_url(player), {"status": "verified", "reason": "Again", "form_token": token})
    assert messages_after(client, response) == ["The KYC status is already Verified; nothing changed."]
    assert not KycCheck.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_kyc_change_without_a_reason_changes_nothing_and_keeps_the_form_usable(finance, ursula, reason):
    client = sign_in(finance)
    token = form_tokens(client.get(page_url(ursula)))["kyc"]
    with expect_no_change():
        response = client.post(kyc_url(ursula), {"status": "verified", "reason": reason, "form_token": token})
    assert messages_after(client, response) == ["Give a reason for this decision. Nothing was changed."]
    assert kyc_of(ursula) == "unverified" and not token_is_spent(token)


def test_an_unknown_kyc_status_is_refused(finance, ursula):
    client = sign_in(finance)
    token = form_tokens(client.get(page_url(ursula)))["kyc"]
    response = client.post(kyc_url(ursula), {"status": "approved", "reason": "x", "form_token": token})
    (message,) = messages_after(client, response)
    assert message.startswith("Please correct the form: New status:")
    assert kyc_of(ursula) == "unverified"


# --- acting: blocks ----------------------------------------------------------------------


@pytest.mark.parametrize("role", DECIDING)
def test_blocking_and_lifting_redirect_back_and_are_audited(role, staff, player):
    client, mark = sign_in(staff[role]), last_audit_id()
    token = form_tokens(client.get(page_url(player)))["block"]
    response = client.post(block_url(player), {"reason": "Affordability check", "days": "", "form_token": token})
    assert response.status_code == 302 and response["Location"] == page_url(player)
    assert messages_after(client, response) == ["The player is blocked until the block is lifted: no deposits or play."]
    block = Exclusion.objects.get(player=player)
    assert (block.kind, block.reason, block.ends_at, block.actor_label) == (
        "operator_block",
        "Affordability check",
        None,
        staff[role].username,
    )
    lifted = client.post(lift_url(player, block), {"reason": "Check passed"})
    assert lifted.status_code == 302 and lifted["Location"] == page_url(player)
    assert messages_after(client, lifted) == ["The block is lifted: the player may deposit and play again."]
    block.refresh_from_db()
    assert (block.lift_reason, block.lifted_by_label) == ("Check passed", staff[role].username)
    assert [e.action for e in audit_since(mark)] == ["exclusion.started", "exclusion.lifted"]


def test_a_block_for_some_days_says_until_when(finance, player):
    client = sign_in(finance)
    token = form_tokens(client.get(page_url(player)))["block"]
    response = client.post(block_url(player), {"reason": "Cooling off", "days": "14", "form_token": token})
    (message,) = messages_after(client, response)
    assert message.startswith("The player is blocked until ") and message.endswith(": no deposits or play.")
    block = Exclusion.objects.get(player=player)
    assert (block.ends_at - block.starts_at).days == 14


def test_a_double_submitted_block_blocks_once(finance, player):
    client = sign_in(finance)
    form = {"reason": "Fraud check", "form_token": form_tokens(client.get(page_url(player)))["block"]}
    first = client.post(block_url(player), form)
    assert messages_after(client, first) == ["The player is blocked until the block is lifted: no deposits or play."]
    second = client.post(block_url(player), form)
    assert messages_after(client, second) == ["This form was already submitted; it was not done twice."]
    assert active_blocks(player) == 1


@pytest.mark.parametrize(("days", "field"), [("0", "Days"), ("3651", "Days"), ("many", "Days")])
def test_impossible_days_are_refused(finance, player, days, field):
    client = sign_in(finance)
    token = form_tokens(client.get(page_url(player)))["block"]
    response = client.post(block_url(player), {"reason": "x", "days": days, "form_token": token})
    (message,) = messages_after(client, response)
    assert message.startswith(f"Please correct the form: {field}")
    assert active_blocks(player) == 0 and not token_is_spent(token)


def test_a_block_or_lift_without_a_reason_changes_nothing(finance, player):
    client = sign_in(finance)
    token = form_tokens(client.get(page_url(player)))["block"]
    with expect_no_change():
        refused = client.post(block_url(player), {"reason": " ", "form_token": token})
    assert messages_after(client, refused) == ["Give a reason for this decision. Nothing was changed."]
    block = block_player(player, actor=Actor.operator(finance), reason="Set up")
    with expect_no_change():
        refused = client.post(lift_url(player, block), {"reason": ""})
    assert messages_after(client, refused) == ["Give a reason for this decision. Nothing was changed."]
    assert active_blocks(player) == 1


def test_lifting_twice_says_nothing_changed(finance, player):
    client = sign_in(finance)
    block = block_player(player, actor=Actor.operator(finance), reason="Set up")
    messages_after(client, client.post(lift_url(player, block), {"reason": "Done"}))
    mark = last_audit_id()
    again = client.post(lift_url(player, block), {"reason": "Done"})
    assert messages_after(client, again) == ["This block was already lifted or has ended; nothing changed."]
    assert audit_since(mark) == []


def test_the_players_own_exclusion_is_not_lifted(finance, player):
    own = exclude_self(player, kind="self_exclusion", days=365, actor=Actor.player(player.user))
    client = sign_in(finance)
    with expect_no_change():
        response = client.post(lift_url(player, own), {"reason": "Asked nicely"})
    assert messages_after(client, response) == [
        "Only an operator block can be lifted; the player's own exclusion runs until it ends."
    ]
    own.refresh_from_db()
    assert own.lifted_at is None


# --- who may -----------------------------------------------------------------------------


def test_a_viewers_posts_are_forbidden_and_change_nothing(viewer, finance, ursula):
    block = block_player(ursula, actor=Actor.operator(finance), reason="Set up")
    client = sign_in(viewer)
    with expect_no_change():
        for url, body in (
            (kyc_url(ursula), {"status": "verified", "reason": "r", "form_token": "t"}),
            (block_url(ursula), {"reason": "r", "form_token": "t"}),
            (lift_url(ursula, block), {"reason": "r"}),
        ):
            assert client.post(url, body).status_code == 403, url
    assert kyc_of(ursula) == "unverified" and active_blocks(ursula) == 1


@pytest.mark.parametrize("role", ROLES)
def test_another_casinos_player_and_exclusions_are_not_found(role, staff, foreign_player, player):
    foreign_block = block_player(foreign_player, actor=Actor.system("tests"), reason="Theirs")
    client = sign_in(staff[role])
    with expect_no_change():
        assert client.get(page_url(foreign_player)).status_code == 404
        for url, body in (
            (kyc_url(foreign_player), {"status": "rejected", "reason": "r", "form_token": "t"}),
            (block_url(foreign_player), {"reason": "r", "form_token": "t"}),
            (lift_url(foreign_player, foreign_block), {"reason": "r"}),
            (lift_url(player, foreign_block), {"reason": "r"}),  # their exclusion under our player
        ):
            assert client.post(url, body).status_code == 404, (role, url)
    assert active_blocks(foreign_player) == 1


@pytest.mark.parametrize("bad", ["x", "²", "9" * 40, "0"])
def test_garbage_ids_are_not_found(finance, player, bad):
    client = sign_in(finance)
    assert client.get(page_url(bad)).status_code == 404
    assert client.post(kyc_url(bad), {"status": "verified", "reason": "r"}).status_code == 404
    assert client.post(lift_url(player, bad), {"reason": "r"}).status_code == 404


def test_the_forms_need_the_csrf_token(finance, player):
    client = sign_in(finance, enforce_csrf_checks=True)
    assert client.post(block_url(player), {"reason": "r", "form_token": "t"}).status_code == 403
    assert active_blocks(player) == 0


def test_a_signed_out_visitor_is_sent_to_sign_in(player):
    response = Client().post(block_url(player), {"reason": "r"})
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    assert active_blocks(player) == 0


# --- the queue and the withdrawal page ---------------------------------------------------


@pytest.fixture
def flagged(tenant):
    """Two first withdrawals, one of them large (two approvals from 100.00)."""
    set_limits(tenant, four_eyes_amount=100_00)
    small = withdrawal_in_state("requested", player=PlayerFactory(tenant=tenant), amount=10_00)
    large = withdrawal_in_state("requested", player=PlayerFactory(tenant=tenant), amount=150_00)
    return small, large


def test_the_queue_shows_flags_as_labels_and_filters_by_them(finance, flagged):
    small, large = flagged
    client = sign_in(finance)
    page = client.get(QUEUE)
    assert "Large: two approvals" in text_of(page) and "First withdrawal" in text_of(page)
    assert re.search(rf'data-reference="{large.reference}".*?data-flag="large"', page.content.decode(), re.S)
    filtered = client.get(QUEUE, {"state": "requested", "flag": "large"})
    assert [w.pk for w in filtered.context["page"]] == [large.pk]
    both = client.get(QUEUE, {"state": "requested", "flag": ["large", "first_withdrawal"]})
    assert {w.pk for w in both.context["page"]} == {small.pk, large.pk}
    assert b'data-testid="flag-filter"' in page.content


def test_an_unknown_flag_in_the_queue_filter_is_an_error_not_a_crash(finance, flagged):
    response = sign_in(finance).get(QUEUE, {"flag": "bogus"})
    assert response.status_code == 200 and list(response.context["page"]) == []
    assert response.context["form"].errors["flag"]


def test_the_withdrawal_page_shows_its_flags_and_the_players_kyc_and_exclusions(finance, ursula):
    # an unverified player cannot withdraw where KYC is required: verify, withdraw, then block
    set_kyc_status(ursula, status="verified", actor=Actor.operator(finance), reason="Checked")
    withdrawal = withdrawal_in_state("requested", player=ursula, amount=20_00)
    block_player(ursula, actor=Actor.operator(finance), reason="Source of funds")
    response = sign_in(finance).get(detail_url(withdrawal.pk))
    html, text = response.content.decode(), text_of(response)
    flags = html[html.index('data-testid="risk-flags"') :][:600]
    assert 'data-flag="first_withdrawal"' in flags and 'data-flag="kyc_changed_recently"' in flags
    summary = html[html.index('data-testid="protection-summary"') :][:1500]
    assert 'data-testid="kyc-status"' in summary and "Verified" in summary
    assert "Operator block" in summary and "until lifted" in summary
    assert "Excluded: no deposits or play" in text


def test_the_player_page_in_turkish(finance, ursula, protected):
    client = sign_in(finance)
    client.post("/i18n/setlang/", {"language": "tr", "next": page_url(ursula)})
    text = text_of(client.get(page_url(ursula)))
    for turkish in ("Kimlik (KYC)", "Doğrulama bekleniyor", "Oyuncunun koyduğu limitler", "Operatör engeli", "Mola"):
        assert turkish in text, turkish
    assert "Identity (KYC)" not in text


# --- the payment policy's player-protection controls -------------------------------------

POLICY = "/console/policy/"


def _policy_form(**changes) -> dict:
    form = {
        "payout_retry_limit": 3,
        "payout_cooldown_seconds": 0,
        "limits-TOTAL_FORMS": 1,
        "limits-INITIAL_FORMS": 1,
        "limits-0-currency": "EUR",
    }
    return {**form, **changes}


def test_the_policy_page_shows_and_saves_the_protection_controls(admin, admin2, tenant):
    client = sign_in(admin)
    page = client.get(POLICY).content.decode()
    for name in (
        "kyc_required_for_withdrawal",
        "player_cancel_allowed",
        "velocity_withdrawals_per_day",
        "limit_increase_cooldown_hours",
        "limits-0-kyc_deposit_threshold",
        "limits-0-auto_approve_below",
    ):
        assert f'name="{name}"' in page, name
    # when an admin tightens them (no reverse withdrawals, fewer requests before a flag, a longer cooling-off,
    # a KYC amount), then they apply at once
    tightened = _policy_form(
        kyc_required_for_withdrawal="yes",
        player_cancel_allowed="no",
        velocity_withdrawals_per_day=2,
        limit_increase_cooldown_hours=48,
        **{"limits-0-kyc_deposit_threshold": "2000.00"},
        reason="UK rules",
    )
    assert messages_after(client, client.post(POLICY, tightened)) == ["The payment policy is saved."]
    policy = PaymentPolicy.objects.get(tenant=tenant)
    assert (policy.player_cancel_allowed, policy.velocity_withdrawals_per_day) == (False, 2)
    assert policy.limit_increase_cooldown_hours == 48
    assert policy.currency_limits.get(currency="EUR").kyc_deposit_threshold == 2000_00
    # and the page shows what was saved
    page = client.get(POLICY)
    assert page.context["form"].initial["player_cancel_allowed"] == "no"
    assert 'value="2000.00"' in page.content.decode()
    # when she sets an amount below which withdrawals are approved automatically (a loosening), it waits
    loosened = {**tightened, "limits-0-auto_approve_below": "50.00", "reason": "Small payouts faster"}
    (waiting,) = messages_after(client, client.post(POLICY, loosened))
    assert waiting.startswith("Your change loosens a control")
    assert policy.currency_limits.get(currency="EUR").auto_approve_below is None
    # and applies once a second admin approves it
    change = PolicyChange.objects.get(tenant=tenant, state="pending_approval")
    sign_in(admin2).post(f"{POLICY}changes/{change.pk}/approve/", {"reason": "Agreed"})
    assert policy.currency_limits.get(currency="EUR").auto_approve_below == 50_00
