"""The seeded schedule: a fixed list of operations per client, the same for the same seed.

Each client owns a few players (player p belongs to client p % clients) and plays them
one operation after another. Operations that act on a withdrawal name it by the
client's own sequence number (`ref` = the client's k-th withdraw operation), so the
schedule never depends on ids the server hands out; the client resolves them at run
time. A withdrawal gets a planned life (approve, second approval above the four-eyes
amount, reject, cancel, mark paid, retry payout) scheduled a few steps later, plus
noise: decisions on random earlier withdrawals, which the product often refuses.
"""

import hashlib
import heapq
import random
from collections import defaultdict
from dataclasses import asdict, dataclass

from . import spec

DEPOSIT_PAY, DEPOSIT_FAIL, DEPOSIT_ABANDON = "deposit_pay", "deposit_fail", "deposit_abandon"
WITHDRAW, CANCEL, READ = "withdraw", "cancel", "read"
APPROVE, REJECT, MARK_PAID, RETRY_PAYOUT = "approve", "reject", "mark_paid", "retry_payout"
# The same player at once from several devices: concurrent requests, each with its own key.
DEPOSIT_BURST, WITHDRAW_BURST = "deposit_burst", "withdraw_burst"
# Someone of another tenant acting on this client's withdrawal: must be 404, changing nothing.
FOREIGN_DECIDE, FOREIGN_CANCEL = "foreign_decide", "foreign_cancel"
# Player protection: a player sets, raises or removes a deposit limit; takes a break; a
# finance operator verifies an unverified player's identity.
SET_LIMIT, TAKE_BREAK, VERIFY_KYC = "set_limit", "take_break", "verify_kyc"
# Play: a game session, then the game provider's signed calls in one scenario (simulation/games.py).
GAME = "game"
GAME_SCENARIOS = ("concurrent", "duplicate", "rollback_first", "bet_and_rollback", "expired")
# Money coming back (simulation/disputes.py): the card holder charges back one of the player's paid
# deposits (often one already spent or withdrawn), the casino sometimes wins the dispute later (and
# the card holder's bank sometimes disputes again after that), and the bank returns some payouts
# after they were paid.
CHARGEBACK, REVERSE_CHARGEBACK, RETURN_PAYOUT = "chargeback", "reverse_chargeback", "return_payout"
SECOND_CHARGEBACK = "second_chargeback"

KINDS = (
    DEPOSIT_PAY,
    DEPOSIT_FAIL,
    DEPOSIT_ABANDON,
    WITHDRAW,
    CANCEL,
    APPROVE,
    REJECT,
    MARK_PAID,
    RETRY_PAYOUT,
    READ,
    DEPOSIT_BURST,
    WITHDRAW_BURST,
    FOREIGN_DECIDE,
    FOREIGN_CANCEL,
    SET_LIMIT,
    TAKE_BREAK,
    VERIFY_KYC,
    GAME,
    CHARGEBACK,
    REVERSE_CHARGEBACK,
    SECOND_CHARGEBACK,
    RETURN_PAYOUT,
)
OPERATOR_KINDS = (APPROVE, REJECT, MARK_PAID, RETRY_PAYOUT)
REPLAYABLE_KINDS = frozenset(
    {DEPOSIT_PAY, DEPOSIT_FAIL, DEPOSIT_ABANDON, WITHDRAW, CANCEL, APPROVE, REJECT, MARK_PAID, RETRY_PAYOUT}
)
REPLAY_RATE = 0.20  # money operations sent twice with the same Idempotency-Key (half after, half at once)
REUSE_RATE = 0.02  # ... and sent again with the same key but a different body (422 IDEMPOTENCY_KEY_REUSED)
BURST_SIZE = 3
DEPOSIT_SETTLES_AFTER = 6  # steps of the client before a paid deposit is counted on for withdrawals
CHARGEBACK_RATE = 0.03  # of primary operations
REVERSAL_RATE = 0.4  # of chargebacks, won by the casino a few steps later
SECOND_CHARGEBACK_RATE = 0.5  # of reversals, disputed again by the card holder's bank after that
RETURN_RATE = 0.12  # of approved withdrawals, sent back by the bank after they were paid


@dataclass(frozen=True)
class Op:
    client: int
    index: int
    kind: str
    player: int  # the acting player, or the owner of the withdrawal an operator decides on
    currency: str = ""
    amount: str = ""  # decimal text, as the API takes it
    ref: int = -1  # the client's withdrawal number this operation acts on
    operator: int = -1  # index into spec.OPERATOR_NAMES, an operator of the player's tenant
    replay: str = ""  # "", "sequential" (again after the answer), "concurrent" (a twin at once) or "reuse"
    count: int = 1  # requests of a burst
    foreign: int = -1  # foreign_decide: the other tenant; foreign_cancel: the other tenant's player
    period: str = ""  # set_limit: day, week or month (amount "" removes the limit)
    scenario: str = ""  # game: one of GAME_SCENARIOS, or "excluded"
    deposit: int = -1  # deposit_pay: the client's paid-deposit number; the dispute kinds: the one disputed

    def key(self, seed: int) -> str:
        """The Idempotency-Key: one per operation, derived from the seed."""
        return f"sim{seed}-c{self.client}-o{self.index}"


def players_of(client: int, clients: int) -> list[int]:
    return [p for p in range(spec.PLAYERS) if p % clients == client]


def build(seed: int, operations: int, clients: int) -> list[list[Op]]:
    """Every client's operations; `operations` in total, spread evenly."""
    if not 1 <= clients <= spec.PLAYERS:
        raise ValueError(f"clients must be between 1 and {spec.PLAYERS}")
    share, extra = divmod(operations, clients)
    return [
        _ClientPlanner(seed, client, players_of(client, clients)).plan(share + (client < extra))
        for client in range(clients)
    ]


def digest(schedule: list[list[Op]]) -> str:
    """A fingerprint of the whole schedule: the same seed gives the same digest."""
    h = hashlib.sha256()
    for ops in schedule:
        for op in ops:
            h.update(repr(sorted(asdict(op).items())).encode())
    return h.hexdigest()[:16]


class _ClientPlanner:
    def __init__(self, seed: int, client: int, players: list[int]):
        self.rng = random.Random(f"simulation:{seed}:client:{client}")
        self.client = client
        self.players = players
        self.balance: dict[tuple[int, str], int] = defaultdict(int)  # estimate of available money
        self.arriving: list[tuple[int, tuple[int, str], int]] = []  # deposits not yet counted on
        self.withdrawals: list[tuple[int, str, bool]] = []  # (player, currency, big) per ref
        self.deposits: list[tuple[int, str, int]] = []  # (player, currency, amount) per paid-deposit number
        self.disputed: set[int] = set()  # paid-deposit numbers already charged back
        self.future: list[tuple[int, int, dict]] = []  # (due index, tie-break, fields)
        self.sequence = 0

    def plan(self, count: int) -> list[Op]:
        ops = []
        for index in range(count):
            self.index = index
            while self.arriving and self.arriving[0][0] <= index:
                _, wallet, amount = self.arriving.pop(0)
                self.balance[wallet] += amount
            if self.future and self.future[0][0] <= index:
                fields = heapq.heappop(self.future)[2]
            else:
                fields = self._primary(index)
            replay = ""
            roll = self.rng.random()
            if fields["kind"] in REPLAYABLE_KINDS and roll < REPLAY_RATE + REUSE_RATE:
                replay = "sequential" if roll < REPLAY_RATE / 2 else "concurrent" if roll < REPLAY_RATE else "reuse"
            ops.append(Op(client=self.client, index=index, replay=replay, **fields))
        return ops

    # -- primary operations ---------------------------------------------------------------

    def _primary(self, index: int) -> dict:
        rng = self.rng
        player = rng.choice(self.players)
        tenant = spec.TENANTS[spec.tenant_of_player(player)]
        currency = rng.choice(tenant.currencies)
        roll = rng.random()
        if roll < 0.34:
            return self._deposit(player, currency)
        if roll < 0.36:
            return self._deposit_burst(player, currency)
        if roll < 0.62:
            return self._withdraw(index, player, currency)
        if roll < 0.64:
            return self._withdraw_burst(player, currency)
        if roll < 0.70:
            return self._game(player, currency)
        if roll < 0.74 or not self.withdrawals:
            return {"kind": READ, "player": player}
        if roll < 0.78:
            return self._protection(player, currency)
        if roll < 0.82:
            return self._foreign()
        if roll < 0.82 + CHARGEBACK_RATE:
            return self._chargeback(player, currency)
        return self._noise()

    def _protection(self, player: int, currency: spec.CurrencySpec) -> dict:
        """A player's own protection, or an operator verifying one: the money path must obey them."""
        rng = self.rng
        if player in spec.UNVERIFIED_PLAYERS and rng.random() < 0.5:
            return {"kind": VERIFY_KYC, "player": player, "operator": rng.randrange(2)}  # a finance operator
        if player in spec.BREAK_PLAYERS and rng.random() < 0.3:
            return {"kind": TAKE_BREAK, "player": player}
        period = rng.choice(("day", "week", "month"))
        roll = rng.random()
        amount = "" if roll < 0.15 else currency.text(currency.from_eur_cents(rng.randint(200_00, 3_000_00)))
        return {"kind": SET_LIMIT, "player": player, "currency": currency.code, "amount": amount, "period": period}

    def _game(self, player: int, currency: spec.CurrencySpec) -> dict:
        """A game session and one scenario of provider calls; players who take breaks take one while playing."""
        scenario = self.rng.choice(GAME_SCENARIOS)
        if player in spec.BREAK_PLAYERS:
            scenario = "excluded"
        return {"kind": GAME, "player": player, "currency": currency.code, "scenario": scenario}

    def _deposit_burst(self, player: int, currency: spec.CurrencySpec) -> dict:
        """Large deposits at once: near the end of a day's limit only some of them fit."""
        amount = currency.from_eur_cents(self.rng.randint(600_00, 1_200_00))
        self.arriving.append((self.index + DEPOSIT_SETTLES_AFTER, (player, currency.code), amount))
        fields = {"kind": DEPOSIT_BURST, "player": player, "currency": currency.code}
        return {**fields, "amount": currency.text(amount), "count": BURST_SIZE}

    def _withdraw_burst(self, player: int, currency: spec.CurrencySpec) -> dict:
        """Withdrawals at once that do not all fit the balance: the wallet lock must refuse the rest."""
        limits = spec.limits_for(currency)
        balance = self.balance[(player, currency.code)]
        amount = min(max(int(balance * 0.45), limits["min_amount"]), limits["four_eyes_amount"] - 1)
        self.balance[(player, currency.code)] = max(0, balance - 2 * amount)
        fields = {"kind": WITHDRAW_BURST, "player": player, "currency": currency.code}
        return {**fields, "amount": currency.text(amount), "count": BURST_SIZE}

    def _foreign(self) -> dict:
        rng = self.rng
        ref = rng.randrange(len(self.withdrawals))
        owner = self.withdrawals[ref][0]
        tenant = spec.tenant_of_player(owner)
        other = (tenant + rng.randint(1, len(spec.TENANTS) - 1)) % len(spec.TENANTS)
        if rng.random() < 0.5:
            fields = self._on(ref, FOREIGN_DECIDE, rng.randrange(len(spec.OPERATOR_NAMES)))
            return {**fields, "foreign": other}
        start = rng.randrange(spec.PLAYERS)
        stranger = next(
            p % spec.PLAYERS
            for p in range(start, start + spec.PLAYERS)
            if spec.tenant_of_player(p % spec.PLAYERS) == other
        )
        return {**self._on(ref, FOREIGN_CANCEL), "foreign": stranger}

    def _deposit(self, player: int, currency: spec.CurrencySpec, kind: str | None = None) -> dict:
        rng = self.rng
        if kind is None:
            roll = rng.random()
            kind = DEPOSIT_PAY if roll < 0.85 else DEPOSIT_FAIL if roll < 0.95 else DEPOSIT_ABANDON
        cents = rng.randint(10_00, 300_00) if rng.random() < 0.9 else rng.randint(300_00, 1_500_00)
        amount = currency.from_eur_cents(cents)
        fields = {"kind": kind, "player": player, "currency": currency.code, "amount": currency.text(amount)}
        if kind == DEPOSIT_PAY:  # counted on a few steps later: its webhook takes a moment
            self.arriving.append((self.index + DEPOSIT_SETTLES_AFTER, (player, currency.code), amount))
            fields["deposit"] = len(self.deposits)
            self.deposits.append((player, currency.code, amount))
        return fields

    def _chargeback(self, player: int, currency: spec.CurrencySpec) -> dict:
        """One paid deposit is charged back: mostly one of the client's players' whose wallet (as far as
        the plan knows) no longer holds that much, spent or withdrawn, so the player ends up owing the
        casino; else the player's oldest deposit not yet disputed, or any of theirs."""
        rng = self.rng
        undisputed = [n for n in range(len(self.deposits)) if n not in self.disputed]
        spent = [n for n in undisputed if self.deposits[n][2] > self.balance[self.deposits[n][:2]]]
        mine = [n for n in undisputed if self.deposits[n][0] == player]
        if spent and rng.random() < 0.7:
            number = rng.choice(spent)
        elif mine:
            number = mine[0] if rng.random() < 0.5 else rng.choice(mine)
        else:
            return self._deposit(player, currency, DEPOSIT_PAY)
        self.disputed.add(number)
        player, code, amount = self.deposits[number]
        self.balance[(player, code)] = max(0, self.balance[(player, code)] - amount)
        fields = {"kind": CHARGEBACK, "player": player, "currency": code, "deposit": number}
        if rng.random() < REVERSAL_RATE:
            reversed_at = self.index + rng.randint(3, 15)
            self._later(reversed_at, {**fields, "kind": REVERSE_CHARGEBACK})
            if rng.random() < SECOND_CHARGEBACK_RATE:
                self._later(reversed_at + rng.randint(2, 10), {**fields, "kind": SECOND_CHARGEBACK})
        return fields

    def _withdraw(self, index: int, player: int, currency: spec.CurrencySpec) -> dict:
        rng = self.rng
        limits = spec.limits_for(currency)
        cap = int(self.balance[(player, currency.code)] * 0.8)
        if cap < limits["min_amount"] * 2:
            return self._deposit(player, currency, DEPOSIT_PAY)
        if rng.random() < 0.15 and cap > limits["four_eyes_amount"]:
            top = min(cap, currency.from_eur_cents(1_200_00))
            amount = rng.randint(limits["four_eyes_amount"], max(top, limits["four_eyes_amount"]))
        else:
            top = min(cap, currency.from_eur_cents(250_00), limits["four_eyes_amount"] - 1)
            amount = rng.randint(limits["min_amount"], max(top, limits["min_amount"]))
        big = amount >= limits["four_eyes_amount"]
        self.balance[(player, currency.code)] -= amount
        ref = len(self.withdrawals)
        self.withdrawals.append((player, currency.code, big))
        self._plan_life(index, ref, player, currency.code, amount, big)
        return {
            "kind": WITHDRAW,
            "player": player,
            "currency": currency.code,
            "amount": currency.text(amount),
            "ref": ref,
        }

    def _noise(self) -> dict:
        rng = self.rng
        ref = rng.randrange(max(0, len(self.withdrawals) - 12), len(self.withdrawals))
        kind = rng.choices((CANCEL, APPROVE, REJECT, MARK_PAID, RETRY_PAYOUT), weights=(2, 3, 2, 1.5, 1.5))[0]
        return self._on(ref, kind, rng.randrange(len(spec.OPERATOR_NAMES)))

    # -- a withdrawal's planned life -------------------------------------------------------

    def _on(self, ref: int, kind: str, operator: int = -1) -> dict:
        player = self.withdrawals[ref][0]
        fields = {"kind": kind, "player": player, "ref": ref}
        if kind in (*OPERATOR_KINDS, FOREIGN_DECIDE):
            fields["operator"] = operator
        return fields

    def _later(self, due: int, fields: dict) -> None:
        self.sequence += 1
        heapq.heappush(self.future, (due, self.sequence, fields))

    def _plan_life(self, index: int, ref: int, player: int, currency: str, amount: int, big: bool) -> None:
        rng = self.rng
        operators = len(spec.OPERATOR_NAMES)
        fate = rng.random()
        if fate < 0.55:  # approved, by two different operators above the four-eyes amount
            first = rng.randrange(operators)
            at = index + rng.randint(1, 6)
            self._later(at, self._on(ref, APPROVE, first))
            approvers = {first}
            if big:
                second = first if rng.random() < 0.1 else (first + rng.randint(1, operators - 1)) % operators
                at += rng.randint(1, 4)
                self._later(at, self._on(ref, APPROVE, second))
                if second == first:  # refused (FOUR_EYES_VIOLATION); someone else approves after
                    second = (first + 1) % operators
                    at += rng.randint(1, 4)
                    self._later(at, self._on(ref, APPROVE, second))
                approvers.add(second)
            if rng.random() < 0.15:  # pay by hand right away, usually by someone who did not approve
                others = [o for o in range(operators) if o not in approvers]
                payer = rng.choice(others) if others and rng.random() < 0.8 else rng.choice(sorted(approvers))
                self._later(at, self._on(ref, MARK_PAID, payer))
            if rng.random() < 0.25:
                self._later(at + rng.randint(3, 12), self._on(ref, RETRY_PAYOUT, rng.randrange(operators)))
            if rng.random() < RETURN_RATE:  # the bank sends it back once paid (if it was, through the PSP)
                self._later(at + rng.randint(8, 20), self._on(ref, RETURN_PAYOUT))
        elif fate < 0.70:
            at = index + rng.randint(1, 8)
            self._later(at, self._on(ref, REJECT, rng.randrange(operators)))
            self.balance[(player, currency)] += amount
            if rng.random() < 0.1:
                self._later(at + 1, self._on(ref, CANCEL))
        elif fate < 0.80:
            at = index + rng.randint(1, 5)
            self._later(at, self._on(ref, CANCEL))
            self.balance[(player, currency)] += amount
            if rng.random() < 0.1:
                self._later(at + 1, self._on(ref, APPROVE, rng.randrange(operators)))
        # else: left to noise and to the drain's operators
