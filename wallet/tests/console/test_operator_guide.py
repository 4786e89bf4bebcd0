"""docs/operator-guide.md stays true to the console: its screenshots exist, its messages are the console's."""

import re
from pathlib import Path

from django.conf import settings

from wallet.console import messages

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


def test_the_guide_explains_every_domain_message():
    source = Path(messages.__file__).read_text(encoding="utf-8")
    for text in re.findall(r'_\(\s*"([^"]+)"', source):
        opening = re.split(r"%\(\w+\)s", text)[0].strip()
        assert opening in GUIDE, f"the operator guide does not explain {text!r}"
