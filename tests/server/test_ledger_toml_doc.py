"""The ledger.toml example in docs/operations.md is one the ledger's own loader accepts, and a
file that is not TOML is refused in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.settings import Settings
from stockwire.cli import main

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
MARKER = "<!-- ledger.toml example"


def test_the_operations_guide_ledger_example_is_accepted_by_the_ledger(tmp_path: Path) -> None:
    text = OPERATIONS.read_text()
    assert MARKER in text, f"docs/operations.md has lost its {MARKER!r}"
    found = re.search(r"```toml\n(.*?)```", text[text.index(MARKER) :], re.S)
    assert found is not None
    path = tmp_path / "ledger.toml"
    path.write_text(found.group(1))
    settings = Settings.from_toml(path, env={})
    assert settings.db_url == "sqlite:////var/lib/stockwire/ledger/ledger.db"
    assert set(settings.gateway_tokens) == {"gw-1"}
    assert settings.push_timeout_s == 5.0


def test_ledger_serve_refuses_a_config_that_is_not_toml_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ledger.toml"
    config.write_text('db_url = "sqlite:///x.db"\nadmin_token = \n')
    assert main(["ledger", "serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stockwire ledger serve: bad setting: ")
    assert "is not valid TOML" in err and "Traceback" not in err


def test_a_misspelled_table_in_ledger_toml_is_refused_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ledger.toml"
    config.write_text('db_url = "sqlite:///x.db"\nadmin_token = "a-long-admin-token-0123"\n'
                      '[gateway]\ngw-1 = "a-long-gateway-token-0123"\n')  # fmt: skip
    assert main(["ledger", "serve", "--config", str(config)]) == 2
    assert capsys.readouterr().err == (
        "stockwire ledger serve: bad setting: unknown keys or tables: gateway (a misspelling?)\n"
    )
