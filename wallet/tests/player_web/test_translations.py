"""The player page in Turkish: every text of its templates and of its script's catalogue is translated.

The console's own check (backoffice/tests/console/test_translations.py) reads the console's
sources; this one reads the player page's, with the same helpers.
"""

from pathlib import Path

from django.conf import settings

from backoffice.tests.console.test_translations import (
    CATALOGUE,
    _python_messages,
    _template_messages,
    untranslated_text,
)

BASE = Path(settings.BASE_DIR)
PAGES = sorted((BASE / "templates" / "play").glob("*.html"))


def player_page_messages() -> set[str]:
    texts = _python_messages(BASE / "wallet" / "player_web" / "views.py")  # the script's catalogue, ui_messages()
    for path in PAGES:
        texts |= _template_messages(path)
    return texts


def test_every_player_page_text_is_in_the_catalogue():
    known = {entry["msgid"] for entry in CATALOGUE}
    texts = player_page_messages()
    assert {"Responsible gambling", "Take a break until %(ends_at)s?", "You have set no limits."} <= texts
    assert sorted(texts - known) == []


def test_every_player_page_template_string_is_marked_for_translation():
    found = {path.name: untranslated_text(path.read_text(encoding="utf-8")) for path in PAGES}
    assert {name: words for name, words in found.items() if words} == {}
