"""The layers of docs/architecture.md hold: imports, model relations and private names.

The import rule is import-linter's layers contract in pyproject.toml (run here, so it is
part of `make test`); relations between models and private names across apps are
checked directly, since an import graph does not show them.
"""

import ast
import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings
from importlinter.cli import lint_imports

BASE = Path(settings.BASE_DIR)
CONFIG = tomllib.loads((BASE / "pyproject.toml").read_text())["tool"]["importlinter"]
# Highest first, as in the contract; optional layers (not yet built) are written "(app)".
LAYERS = [name.strip("()") for name in CONFIG["contracts"][0]["layers"]]
RANK = {app: len(LAYERS) - index for index, app in enumerate(LAYERS)}
PRODUCT_APPS = sorted({config.name.split(".")[0] for config in apps.get_app_configs()} & set(RANK))


def product_sources():
    """Every product module, tests and migrations aside (tests drive the product from outside)."""
    for app in PRODUCT_APPS:
        for path in (BASE / app).rglob("*.py"):
            parts = path.relative_to(BASE).parts
            if "tests" not in parts and "migrations" not in parts:
                yield app, path


def test_the_import_contract_is_kept():
    assert lint_imports(config_filename=str(BASE / "pyproject.toml"), no_cache=True) == 0


def test_every_product_app_has_a_layer():
    local = {
        c.name.split(".")[0]
        for c in apps.get_app_configs()
        if Path(c.path).is_relative_to(BASE) and ".venv" not in Path(c.path).relative_to(BASE).parts
    }
    assert local <= set(RANK), f"apps without a layer in pyproject.toml: {sorted(local - set(RANK))}"
    assert set(CONFIG["root_packages"]) == {app for app in RANK if (BASE / app).is_dir()}


def test_models_refer_only_to_their_layer_or_below():
    upward = []
    for model in apps.get_models():
        source = model._meta.app_label
        if source not in RANK:
            continue
        for field in model._meta.get_fields(include_hidden=True):
            target = getattr(field, "related_model", None)
            if field.is_relation and not field.auto_created and target is not None:
                label = target._meta.app_label
                if label in RANK and RANK[label] > RANK[source]:
                    upward.append(f"{model._meta.label}.{field.name} -> {target._meta.label}")
    assert upward == []


def private_imports_across_apps(app: str, path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            target = node.module.split(".")[0]
            private = [a.name for a in node.names if a.name.startswith("_")]
            private += [part for part in node.module.split(".") if part.startswith("_")]
            if target != app and target in RANK and private:
                found.append(f"{path.name}:{node.lineno} from {node.module} import {private}")
    return found


def test_no_app_imports_another_apps_private_names():
    found = [line for app, path in product_sources() for line in private_imports_across_apps(app, path)]
    assert found == []


def test_the_private_name_check_sees_one(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from wallet.services.payouts import _open_attempt\nfrom payouts.tasks import backoff\n")
    assert private_imports_across_apps("payouts", planted) == [
        "planted.py:1 from wallet.services.payouts import ['_open_attempt']"
    ]
