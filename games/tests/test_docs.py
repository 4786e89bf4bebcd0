"""docs/game-wallet.md says what the code does: its worked signature, every code the game wallet answers."""

import re
from pathlib import Path

from django.conf import settings

from core.errors import DomainError
from games import errors

from .helpers import sign

DOC = (Path(settings.BASE_DIR) / "docs" / "game-wallet.md").read_text(encoding="utf-8")


def _line(name: str) -> str:
    return re.search(rf"^{name}\s+(\S+)", DOC, re.M).group(1)


def test_the_worked_signature_example_holds():
    body = _line("body").encode()
    expected = _line("webhook-signature")
    assert sign(_line("secret"), _line("webhook-id"), int(_line("webhook-timestamp")), body) == expected


def test_every_game_wallet_code_is_documented():
    codes = {cls.error_code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, DomainError)}
    codes |= {"INSUFFICIENT_FUNDS", "PLAYER_EXCLUDED", "PLAYER_LIMIT_EXCEEDED", "TENANT_SUSPENDED", "VALIDATION_ERROR"}
    codes |= {"RATE_LIMITED", "PAYLOAD_TOO_LARGE"}
    missing = [code for code in sorted(codes - {"DOMAIN_ERROR"}) if f"`{code}`" not in DOC]
    assert missing == []
