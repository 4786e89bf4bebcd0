"""The Turkish catalogue: every console text translated, placeholders kept, the .mo compiled from the .po."""

import ast
import gettext
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

from .helpers import QUEUE, sign_in, text_of

LOCALE = Path(settings.BASE_DIR) / "locale" / "tr" / "LC_MESSAGES"
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (a list), flags; the header is left out."""
    entries, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            if entry and entry.get("msgid"):
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            _append(entry, field, ast.literal_eval(line))
        else:
            keyword, literal = line.split(" ", 1)
            field = keyword
            entry.setdefault(keyword, "") if not keyword.startswith("msgstr") else None
            _append(entry, field, ast.literal_eval(literal))
    return entries


def _append(entry: dict, field: str, text: str) -> None:
    if field.startswith("msgstr"):
        index = int(field[7:-1]) if "[" in field else 0
        entry["msgstr"][index] = entry["msgstr"].get(index, "") + text
    else:
        entry[field] = entry.get(field, "") + text


CATALOGUE = parse_po(LOCALE / "django.po")


def test_the_catalogue_is_read():
    assert len(CATALOGUE) > 100


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e["msgid"][:40])
def test_every_message_is_translated_with_its_placeholders(entry):
    assert "fuzzy" not in entry["flags"]
    forms = [entry["msgstr"].get(i, "") for i in range(2 if "msgid_plural" in entry else 1)]
    assert all(text.strip() for text in forms), f"untranslated: {entry['msgid']!r}"
    expected = set(PLACEHOLDER.findall(entry["msgid"] + entry.get("msgid_plural", "")))
    for text in forms:
        assert set(PLACEHOLDER.findall(text)) == expected, (entry["msgid"], text)


# A literal as templatize writes it: u'...', or u"..." when the text holds an apostrophe.
_LITERAL = r"""u('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""


def _template_messages(path: Path) -> set[str]:
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found = set()
    for call in re.finditer(rf"\bn?gettext\(((?:{_LITERAL}(?:, )?)+)", code):
        found |= {ast.literal_eval(literal) for literal in re.findall(_LITERAL, call.group(1))}
    return found


def _python_messages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in GETTEXT_NAMES:
            found |= {arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return found


def console_messages() -> set[str]:
    base = Path(settings.BASE_DIR)
    texts = set()
    for path in (base / "templates" / "console").glob("*.html"):
        texts |= _template_messages(path)
    console_code = [
        *(base / "backoffice" / "console").glob("*.py"),
        base / "backoffice" / "templatetags" / "console.py",
        base / "reconciliation" / "console.py",
        base / "games" / "console.py",
        base / "games" / "models.py",  # round statuses, transaction kinds and statuses
        *base.glob("*/errors.py"),  # each error's operator message
        *(base / "backoffice").glob("*.py"),  # labels of states, statuses, actions; player context
        # the choices the console shows as labels
        base / "core" / "actors.py",
        base / "tenants" / "models.py",
        base / "payouts" / "models.py",
        base / "reconciliation" / "models.py",
        *(base / "wallet" / "models").glob("*.py"),
        *(base / "players" / "models").glob("*.py"),  # KYC statuses, exclusion kinds, limit kinds and periods
    ]
    for path in console_code:
        texts |= _python_messages(path)
    return texts | _python_messages(base / "wallet" / "models" / "transactions.py")


def test_every_console_text_is_in_the_catalogue():
    known = {entry["msgid"] for entry in CATALOGUE} | {entry.get("msgid_plural") for entry in CATALOGUE}
    texts = console_messages()
    assert len(texts) > 100
    assert sorted(texts - known) == []


def test_the_compiled_catalogue_matches_the_po_file(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(LOCALE / "django.po")], check=True)
    with (LOCALE / "django.mo").open("rb") as shipped, compiled.open("rb") as fresh:
        assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog


@pytest.mark.django_db
def test_the_console_speaks_turkish_when_asked(finance, player):
    client = sign_in(finance)
    client.post("/i18n/setlang/", {"language": "tr", "next": QUEUE})
    response = client.get(QUEUE)
    assert response["Content-Language"] == "tr"
    assert "Para çekme inceleme kuyruğu" in text_of(response)
    assert "Withdrawal review queue" not in text_of(response)


TRANSLATABLE_ATTRIBUTES = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"')


def untranslated_text(source: str) -> list[str]:
    """Words a console template shows that no {% translate %} or {% blocktranslate %} covers."""
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", " ", source, flags=re.S)
    source = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", source, flags=re.S)
    source = re.sub(r"<(script|style|code)\b.*?</\1>", " ", source, flags=re.S)  # code is never prose
    attributes = [value for value in TRANSLATABLE_ATTRIBUTES.findall(source) if not value.startswith("{%")]
    source = re.sub(r"{%.*?%}|{{.*?}}", " ", source, flags=re.S)
    source = re.sub(r"<[^>]*>", " ", source, flags=re.S)
    words = [w for w in re.findall(r"[^\W\d_][\w'.-]*", source) if not w.startswith("&")]
    return words + [a for a in attributes if re.search(r"[^\W\d_]", re.sub(r"{{.*?}}", "", a))]


def test_every_console_template_string_is_marked_for_translation():
    base = Path(settings.BASE_DIR) / "templates" / "console"
    found = {path.name: untranslated_text(path.read_text(encoding="utf-8")) for path in base.glob("*.html")}
    assert {name: words for name, words in found.items() if words} == {}


def test_template_texts_with_an_apostrophe_are_read_too(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "{% load i18n %}{% translate \"the player's own\" %}{% translate 'plain' %}"
        "{% blocktranslate with a=b %}It's {{ a }}{% endblocktranslate %}"
    )
    assert _template_messages(page) == {"the player's own", "plain", "It's %(a)s"}


def test_the_template_check_sees_a_bare_word():
    assert untranslated_text('<p>Pending</p><input placeholder="Why?">{% translate "Fine" %}') == ["Pending", "Why?"]
    assert untranslated_text("<p>{% blocktranslate %}Fine {{ x }}{% endblocktranslate %} {{ y }} · #1</p>") == []
