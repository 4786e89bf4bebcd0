"""Which casinos the game plays for: providers.json (re-read on change), the environment, options."""

import json
import os
import stat

import pytest

from games.sandbox.providers import Provider, Providers, parse_pairs, read_file, save_provider

from .conftest import new_secret


def test_a_saved_provider_is_read_back_and_the_file_is_private(tmp_path):
    secret = new_secret()
    file = save_provider(
        "sandbox-aurora", secret=secret, api_url="http://casino/api/v1/games/sandbox-aurora/", directory=tmp_path
    )
    assert read_file(file) == {
        "sandbox-aurora": Provider("sandbox-aurora", secret, "http://casino/api/v1/games/sandbox-aurora/")
    }
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    assert Provider("s", secret, "http://casino/api/v1/games/s").endpoint("bet") == "http://casino/api/v1/games/s/bet/"


def test_a_rotated_secret_applies_without_a_restart(tmp_path):
    # given a running game that knows the casino's first secret
    first, second = new_secret(), new_secret()
    save_provider("sandbox-aurora", secret=first, api_url="http://casino/", directory=tmp_path)
    providers = Providers(tmp_path / "providers.json")
    assert providers.get("sandbox-aurora").secret == first
    # when seed_demo (or an operator) writes the new one, and another casino beside it
    save_provider("sandbox-aurora", secret=second, api_url="http://casino/", directory=tmp_path)
    save_provider("sandbox-borealis", secret=first, api_url="http://casino/", directory=tmp_path)
    # then the next call signs with the new secret, and both casinos are known
    assert providers.get("sandbox-aurora").secret == second
    assert sorted(providers.all()) == ["sandbox-aurora", "sandbox-borealis"]


def test_options_win_over_the_file_and_a_missing_file_is_no_provider(tmp_path):
    providers = Providers(tmp_path / "providers.json", parse_pairs("sandbox-aurora=" + new_secret(), "http://c"))
    assert providers.get("sandbox-aurora").api_url == "http://c/api/v1/games/sandbox-aurora/"
    assert providers.get("sandbox-borealis") is None


@pytest.mark.parametrize("text", ["sandbox-aurora", "sandbox-aurora=not-a-secret", "Bad Slug=whsec_AAAA"])
def test_malformed_pairs_are_refused(text):
    with pytest.raises(ValueError):
        parse_pairs(text, "http://c")


def test_entries_without_a_whsec_secret_are_ignored(tmp_path):
    (tmp_path / "providers.json").write_text(
        json.dumps({"providers": {"ok": {"secret": new_secret(), "api_url": "http://c/"}, "bad": {"secret": "x"}}})
    )
    assert list(read_file(tmp_path / "providers.json")) == ["ok"]
