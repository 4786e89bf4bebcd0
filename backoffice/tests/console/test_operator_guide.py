"""docs/operator-guide.md stays true to the console: its screenshots exist, its messages are the console's."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from core.api.problems import known_problem_types
from core.errors import DomainError

DOCS = Path(settings.BASE_DIR) / "docs"
GUIDE = (DOCS / "operator-guide.md").read_text(encoding="utf-8")
BROWSER_TESTS = Path(__file__).parent / "browser"


def test_every_embedded_screenshot_exists_and_every_screenshot_is_embedded():
    embedded = set(re.findall(r"!\[[^\]]*\]\((img/[\w.-]+\.png)\)", GUIDE))
    assert embedded and all((DOCS / path).is_file() for path in embedded)
    taken = set()
    for path in BROWSER_TESTS.glob("test_*.py"):
        taken |= {f"img/{name}.png" for name in re.findall(r"\.shot\(\"([\w-]+)\"", path.read_text())}
    assert taken == embedded


def operator_messages() -> list[str]:
    """Every DomainError's console message, in English (each app's errors module is loaded first)."""
    known_problem_types()
    found, pending = [], [DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.operator_message is not None:
            with translation.override("en"):
                found.append(str(cls.operator_message))
    return found


def test_the_guide_explains_every_domain_message():
    texts = operator_messages()
    assert len(texts) >= 14
    for text in texts:
        opening = re.split(r"%\(\w+\)s", text)[0].strip()
        assert opening in GUIDE, f"the operator guide does not explain {text!r}"
