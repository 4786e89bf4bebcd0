"""After the drain, read the world back through the APIs: what players and operators see must
be the books. Every player's wallet and full history (following the keyset cursors to the
end), and every tenant's review queue (all pages, with its counts per state), are compared
with the database: same rows, each exactly once, same states and balances.
"""

from collections import Counter

from .client import Api, World
from .stats import Stats

CHECK = "api_agrees_with_database"


def check(world: World, stats: Stats) -> int:
    """Returns how many API reads were compared."""
    from core.api.fields import money_text
    from players.models import Player
    from wallet.models import Deposit, Wallet, Withdrawal

    api = Api(world, stats, retry_window=30)
    players = {p.user.username: p for p in Player.objects.select_related("user", "tenant")}
    compared = 0
    by_token = _usernames(world)
    for token in world.player_tokens:
        player = players[by_token[token]]
        answer = api.send("GET", f"{world.web_url}/api/v1/wallet/", token=token)
        if answer is None or answer.status != 200:
            stats.violation(CHECK, f"wallet of {player.user.username}: {answer and answer.outcome}")
            continue
        seen = {w["currency"]: (w["available"], w["held"]) for w in answer.json().get("wallets", [])}
        books = {c: (money_text(0, c), money_text(0, c)) for c in player.tenant.allowed_currencies}  # no wallet yet
        books |= {
            w.currency: (money_text(w.balance_available, w.currency), money_text(w.balance_held, w.currency))
            for w in Wallet.objects.filter(player=player)
        }
        if seen != books:
            stats.violation(CHECK, f"wallet of {player.user.username}: API {seen}, books {books}")
        rows = _history(api, world, token, player.user.username, stats)
        if rows is None:
            continue
        compared += 1 + len(rows)
        ids = [row["id"] for row in rows]
        states = {row["id"]: row["state"] for row in rows}
        expected = {str(pk): state for pk, state in Deposit.objects.filter(player=player).values_list("id", "state")}
        expected |= {
            str(pk): state for pk, state in Withdrawal.objects.filter(player=player).values_list("id", "state")
        }
        if len(ids) != len(set(ids)):
            dupes = [pk for pk, n in Counter(ids).items() if n > 1]
            stats.violation(CHECK, f"history of {player.user.username} lists {dupes[:3]} more than once")
        if states != expected:
            missing = sorted(set(expected) - set(states))[:3]
            extra = sorted(set(states) - set(expected))[:3]
            wrong = [pk for pk in set(states) & set(expected) if states[pk] != expected[pk]][:3]
            stats.violation(
                CHECK, f"history of {player.user.username}: missing {missing}, foreign {extra}, other state {wrong}"
            )
        stamps = [row["created_at"] for row in rows]
        if stamps != sorted(stamps, reverse=True):
            stats.violation(CHECK, f"history of {player.user.username} is not newest first")
    for tenant, tokens in enumerate(world.operator_tokens):
        compared += _queue(api, world, tokens[0], tenant, stats)
    return compared


def _usernames(world: World) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    return dict(Token.objects.filter(key__in=world.player_tokens).values_list("key", "user__username"))


def _history(api: Api, world: World, token: str, username: str, stats: Stats) -> list | None:
    rows, url, pages = [], f"{world.web_url}/api/v1/transactions/?limit=37", 0
    while url:
        answer = api.send("GET", url, token=token)
        if answer is None or answer.status != 200:
            stats.violation(CHECK, f"history of {username}, page {pages + 1}: {answer and answer.outcome}")
            return None
        page = answer.json()
        rows += page.get("results", [])
        url, pages = page.get("next"), pages + 1
        if pages > 1000:
            stats.violation(CHECK, f"history of {username} never ends")
            return None
    return rows


def _queue(api: Api, world: World, token: str, tenant: int, stats: Stats) -> int:
    from tenants.models import Tenant
    from wallet.models import Withdrawal

    from . import spec

    slug = spec.TENANTS[tenant].slug
    rows, page, pages, counts = [], 1, 1, {}
    while page <= pages:
        url = f"{world.web_url}/api/v1/admin/withdrawals/?page_size=61&page={page}"
        answer = api.send("GET", url, token=token)
        if answer is None or answer.status != 200:
            stats.violation(CHECK, f"review queue of {slug}, page {page}: {answer and answer.outcome}")
            return 0
        body = answer.json()
        rows += body.get("results", [])
        pages, counts = body.get("pages", 1), body.get("counts_by_state", {})
        page += 1
    books = Withdrawal.objects.filter(tenant=Tenant.objects.get(slug=slug))
    expected = {str(pk): state for pk, state in books.values_list("id", "state")}
    seen = {row["id"]: row["state"] for row in rows}
    if len(rows) != len(seen) or seen != expected:
        stats.violation(
            CHECK, f"review queue of {slug}: {len(rows)} rows, {len(seen)} distinct, {len(expected)} in the books"
        )
    if counts != dict(Counter(expected.values())):
        stats.violation(CHECK, f"review queue of {slug}: counts {counts}, books {dict(Counter(expected.values()))}")
    return len(rows)
