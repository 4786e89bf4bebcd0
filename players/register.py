"""The exclusion register contract: is this player listed in a national self-exclusion scheme?

A real adapter (GAMSTOP in Great Britain, Spelpaus in Sweden, the Ontario register …)
answers `is_excluded(player)`; EXCLUSION_REGISTER in the settings names the class. The
sandbox register, the default, reads its list from the database (RegisterListing), so
tests and the demo can list a player.
"""

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from players.models import Player, RegisterListing


class ExclusionRegister(Protocol):
    def is_excluded(self, player: Player) -> bool: ...


class SandboxRegister:
    """Listed by the player's external reference, or their username where the platform gives none."""

    def is_excluded(self, player: Player) -> bool:
        return RegisterListing.objects.filter(key=register_key(player)).exists()


def register_key(player: Player) -> str:
    return player.external_ref or player.user.get_username()


def exclusion_register() -> ExclusionRegister:
    return import_string(_register_path())()


def _register_path() -> str:
    return getattr(settings, "EXCLUSION_REGISTER", "players.register.SandboxRegister")


def listed_sql(player: str, user: str) -> str | None:
    """The sandbox register's listing as an SQL boolean over the aliases of the player's and the
    user's rows, for a hot path that reads the player's state in one statement (the game wallet's
    bets); None when another register is configured, which the caller then asks itself."""
    if _register_path() != "players.register.SandboxRegister":
        return None
    return (
        f"EXISTS (SELECT 1 FROM {RegisterListing._meta.db_table} rl "
        f"WHERE rl.key = COALESCE(NULLIF({player}.external_ref, ''), {user}.username))"
    )
