"""The game provider's daily report against our game transactions (reconciliation.game_report).

A tiny HTTP server plays the provider: it serves the CSV each test gives it for an account.
"""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from core.actors import Actor
from core.errors import ValidationFailed
from games import providers
from games.models import GameTransaction
from games.sessions import start_session
from players.tests.factories import PlayerFactory
from reconciliation.models import Finding
from reconciliation.services import run_reconciliation
from tenants.tests.factories import TenantFactory
from wallet.tests.factories import fund

from .helpers import ProviderClient

pytestmark = pytest.mark.django_db
OPS = Actor.system("tests")
PORT = 8900
HEADER = (
    "date,provider,transaction_id,round_id,kind,amount,currency,reference_transaction_id,session_token,"
    "wallet_transaction_id\n"
)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        query = parse_qs(urlparse(self.path).query)
        self.server.requests.append(query)
        status, body = self.server.answers.get(query.get("provider", [""])[0], (404, "no such provider"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def report_server():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), _Handler)
    server.answers, server.requests = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def serve(report_server):
    report_server.answers.clear()
    report_server.requests.clear()

    def serve(account, body: str, status: int = 200):
        providers.set_report_url(
            account, f"http://127.0.0.1:{PORT}/reports/daily.csv?date={{date}}&provider={account.slug}", actor=OPS
        )
        report_server.answers[account.slug] = (status, body)

    return serve


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def csv_of(account, *lines: tuple[str, str, str, str]) -> str:
    """lines: (transaction_id, kind, amount, currency)."""
    day = today()
    rows = [f"{day},{account.slug},{tx},r-1,{kind},{amount},{currency},,gs_x,w" for tx, kind, amount, currency in lines]
    return HEADER + "".join(row + "\n" for row in rows)


@pytest.fixture
def played(provider, token):
    provider.bet(token, "b-1", round_id="r-1", amount="10.00")
    provider.win(token, "w-0", round_id="r-1", amount="0.00")  # no money moved: no_effect
    provider.win(token, "w-1", round_id="r-1", amount="4.00")
    return {t.transaction_id: t for t in GameTransaction.objects.all()}


AGREEING = (("b-1", "bet", "10.00", "EUR"), ("w-0", "win", "0.00", "EUR"), ("w-1", "win", "4.00", "EUR"))


def reconcile(tenant=None) -> list[Finding]:
    run = run_reconciliation(tenant, actor=OPS, settlement_date=datetime.now(UTC).date())
    assert run.status == "succeeded"
    assert "game_report" in run.stats["checks"]
    return list(Finding.objects.filter(run=run, type__startswith="game_report").order_by("type", "object_id"))


def test_an_agreeing_report_gives_no_finding(played, tenant, account, serve, report_server):
    serve(account, csv_of(account, *AGREEING))
    assert reconcile(tenant) == []
    assert report_server.requests == [{"date": [today()], "provider": [account.slug]}]


def test_without_a_report_url_nothing_is_fetched_or_compared(played, tenant, report_server):
    report_server.requests.clear()
    assert reconcile(tenant) == []
    assert report_server.requests == []


def test_one_missing_on_each_side(played, tenant, account, serve):
    # the provider's report lacks our win w-1 and lists a bet we never saw
    serve(account, csv_of(account, AGREEING[0], AGREEING[1], ("ghost", "bet", "3.00", "EUR")))
    missing_at_provider, missing_in_product = reconcile(tenant)
    assert (missing_at_provider.type, missing_at_provider.object_type, missing_at_provider.object_id) == (
        "game_report_missing_at_provider",
        "gametransaction",
        str(played["w-1"].pk),
    )
    assert missing_at_provider.expected == {"kind": "win", "amount": 4_00, "currency": "EUR"}
    assert missing_at_provider.tenant_id == tenant.pk
    assert (missing_in_product.type, missing_in_product.object_id, missing_in_product.actual) == (
        "game_report_missing_in_product",
        "ghost",
        {"kind": "bet", "amount": 3_00, "currency": "EUR"},
    )
    assert missing_in_product.tenant_id == tenant.pk
    assert missing_in_product.key == f"game_report_missing_in_product:game_report_row:ghost:{account.slug}"
    assert {f.severity for f in (missing_at_provider, missing_in_product)} == {"high"}


def test_a_transaction_we_refused_is_missing_in_product(played, provider, token, tenant, account, serve):
    # a bet refused here (more than the balance) that the provider reports as accepted
    assert provider.bet(token, "b-big", round_id="r-2", amount="5000.00").status_code != 200
    serve(account, csv_of(account, *AGREEING, ("b-big", "bet", "5000.00", "EUR")))
    [found] = reconcile(tenant)
    assert (found.type, found.object_id, found.expected) == (
        "game_report_missing_in_product",
        "b-big",
        {"status": "refused"},
    )


def test_amount_currency_or_kind_mismatch(played, tenant, account, serve):
    serve(account, csv_of(account, ("b-1", "bet", "9.00", "EUR"), ("w-0", "win", "0.00", "USD"), AGREEING[2]))
    bet, zero_win = reconcile(tenant)
    by_id = {bet.object_id: bet, zero_win.object_id: zero_win}
    found = by_id[str(played["b-1"].pk)]
    assert (found.type, found.severity) == ("game_report_amount_mismatch", "critical")
    assert (found.expected["amount"], found.actual["amount"]) == (10_00, 9_00)
    found = by_id[str(played["w-0"].pk)]
    assert (found.expected["currency"], found.actual["currency"]) == ("EUR", "USD")
    # a kind that differs is the same finding
    serve(account, csv_of(account, AGREEING[0], AGREEING[1], ("w-1", "bet", "4.00", "EUR")))
    [found] = reconcile(tenant)
    assert (found.type, found.expected["kind"], found.actual["kind"]) == ("game_report_amount_mismatch", "win", "bet")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, "transaction_id,amount\nb-1,10.00\n", "unreadable report: missing columns"),
        (200, HEADER + "{day},{slug},b-1,r-1,bet,ten,EUR,,gs,w\n", "unreadable report: line 2: amount"),
        (200, HEADER + "{day},{slug},b-1,r-1,bet,10.001,EUR,,gs,w\n", "unreadable report: line 2: amount"),
        (200, HEADER + "{day},{slug},b-1,r-1,spin,10.00,EUR,,gs,w\n", "unreadable report: line 2: kind"),
        (200, HEADER + "{day},{slug},b-1,r-1,bet,10.00,XXX,,gs,w\n", "unreadable report: line 2: unknown currency"),
        (200, HEADER + "1999-01-01,{slug},b-1,r-1,bet,10.00,EUR,,gs,w\n", "unreadable report: line 2: date"),
        (200, HEADER + "{day},other-casino,b-1,r-1,bet,10.00,EUR,,gs,w\n", "unreadable report: line 2: provider"),
        (200, HEADER + "{day},{slug},b-1,r-1,bet\n", "unreadable report: line 2: wrong number"),
        (200, HEADER + "{day},{slug},b-1,r-1,bet,1.00,EUR,,gs,w\n" * 2, "unreadable report: line 3: transaction_id"),
        (500, "oops", "the provider answered 500"),
    ],
)
def test_an_unreadable_report_is_a_finding_and_nothing_of_it_is_compared(
    played, tenant, account, serve, status, body, reason
):
    serve(account, body.replace("{day}", today()).replace("{slug}", account.slug), status=status)
    [found] = reconcile(tenant)
    assert (found.type, found.severity, found.object_id) == ("game_report_unavailable", "medium", today())
    assert found.actual.startswith(reason), found.actual
    assert found.detail["provider"] == account.slug


def test_an_unreachable_provider_is_a_finding(played, tenant, account):
    providers.set_report_url(account, "http://127.0.0.1:8909/reports/daily.csv?date={date}", actor=OPS)
    [found] = reconcile(tenant)
    assert found.type == "game_report_unavailable"
    assert found.actual.startswith("the provider could not be reached")


def test_another_tenants_transactions_are_never_matched(played, client, tenant, account, serve):
    # another casino with its own provider account, whose play uses the same transaction ids and more
    other = TenantFactory(allowed_currencies=["EUR"])
    other_account, secret = providers.create_provider_account(other, slug=f"slots-{other.slug}", name="B", actor=OPS)
    game = providers.create_game(other_account, code="slot", name="Slot", launch_url="http://games.test/s", actor=OPS)
    player = PlayerFactory(tenant=other)
    fund(player, 100_00)
    token = start_session(
        player=player, game_id=game.pk, currency="EUR", actor=Actor.player(player.user), api_origin="http://testserver/"
    ).token
    theirs = ProviderClient(client, other_account.slug, secret)
    assert theirs.bet(token, "b-1", round_id="r-1", amount="10.00").status_code == 200
    assert theirs.bet(token, "b-other", round_id="r-1", amount="7.00").status_code == 200
    # our report lists the other casino's b-other; theirs lists only b-1 (their b-other is missing at provider)
    serve(account, csv_of(account, *AGREEING, ("b-other", "bet", "7.00", "EUR")))
    serve(other_account, csv_of(other_account, ("b-1", "bet", "10.00", "EUR")))
    found = reconcile()  # every tenant at once
    assert sorted((f.tenant_id, f.type, f.object_id) for f in found) == sorted(
        [
            (tenant.pk, "game_report_missing_in_product", "b-other"),
            (
                other.pk,
                "game_report_missing_at_provider",
                str(GameTransaction.objects.get(account=other_account, transaction_id="b-other").pk),
            ),
        ]
    )
    # one tenant's run reads only its own provider's report
    assert [(f.tenant_id, f.object_id) for f in reconcile(tenant)] == [(tenant.pk, "b-other")]


def test_the_report_url_is_an_http_template_with_the_day(account):
    too_long = "http://x/" + "a" * 500 + "{date}"
    for bad in ("ftp://x/{date}", "file:///etc/passwd?{date}", "http://x/report.csv", too_long):
        with pytest.raises(ValidationFailed):
            providers.set_report_url(account, bad, actor=OPS)
    providers.set_report_url(account, " http://x/r.csv?date={date} ", actor=OPS)
    account.refresh_from_db()
    assert account.report_url == "http://x/r.csv?date={date}"
    providers.set_report_url(account, "", actor=OPS)
    account.refresh_from_db()
    assert account.report_url == ""
