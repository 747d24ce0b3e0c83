"""The `stockwire` command refuses what it cannot use with one clear line, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockwire import cli


def test_a_demo_work_directory_that_cannot_be_made_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert cli.main(["demo", "--workdir", str(blocker / "work")]) == 2
    err = capsys.readouterr()
    said = err.out + err.err
    assert f"stockwire demo: cannot use {blocker / 'work'} as the work directory" in said
    assert "Traceback" not in said


def test_an_unknown_gateway_log_level_is_refused_with_the_levels_there_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["gateway", "run", "--config", "g.toml", "--log-level", "bogus"])
    assert stop.value.code == 2
    assert "invalid choice: 'BOGUS' (choose from 'DEBUG', 'INFO', 'WARNING', 'ERROR')" in (
        capsys.readouterr().err
    )
