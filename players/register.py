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
    return import_string(getattr(settings, "EXCLUSION_REGISTER", "players.register.SandboxRegister"))()
