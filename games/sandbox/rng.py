"""The reels: a seeded RNG per round, so every outcome can be replayed.

A round's generator is derived from the game's seed and the round id alone
(SHA-256 of "<seed>:<round id>"), not from a shared stream: the outcome of a round does
not depend on which rounds came before it, on threads, or on restarts. Anyone holding
the seed (recorded with each round) and the round id can recompute the reels and the
win with `outcome(seed, round_id)`, which is how tests and disputes check a round.

Three reels of weighted symbols; three of a kind pays its multiple, exactly two
cherries pay 2x. The exact return to player is `return_to_player()` (about 92.9 %).
"""

import hashlib
import random
import secrets
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

# (symbol, weight on each reel, multiple paid for three of a kind)
SYMBOLS = (
    ("cherry", 5, 4),
    ("lemon", 4, 8),
    ("bell", 3, 12),
    ("bar", 2, 25),
    ("seven", 1, 100),
)
TWO_CHERRIES = 2
REELS = 3

_NAMES = [name for name, _, _ in SYMBOLS]
_WEIGHTS = [weight for _, weight, _ in SYMBOLS]
_THREE = {name: multiple for name, _, multiple in SYMBOLS}


@dataclass(frozen=True)
class Outcome:
    round_id: str
    reels: tuple[str, ...]
    multiplier: int

    def win(self, bet: int) -> int:
        """What a bet of `bet` minor units wins (minor units; 0 for a losing spin)."""
        return bet * self.multiplier


def new_seed() -> str:
    return secrets.token_hex(16)


def round_rng(seed: str, round_id: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{round_id}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def multiplier_of(reels: tuple[str, ...]) -> int:
    if len(set(reels)) == 1:
        return _THREE[reels[0]]
    if reels.count("cherry") == 2:
        return TWO_CHERRIES
    return 0


def outcome(seed: str, round_id: str) -> Outcome:
    reels = tuple(round_rng(seed, round_id).choices(_NAMES, weights=_WEIGHTS, k=REELS))
    return Outcome(round_id=round_id, reels=reels, multiplier=multiplier_of(reels))


def return_to_player() -> Fraction:
    """The exact expected win per unit bet, over every combination of the reels."""
    total = sum(_WEIGHTS)
    expected = Fraction(0)
    for reels in product(range(len(SYMBOLS)), repeat=REELS):
        chance = Fraction(1)
        for index in reels:
            chance *= Fraction(_WEIGHTS[index], total)
        expected += chance * multiplier_of(tuple(_NAMES[i] for i in reels))
    return expected
