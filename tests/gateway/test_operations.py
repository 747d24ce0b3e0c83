"""Running a site on a Pi: the systemd units in deploy/systemd/ (the gateway's, the ledger's,
and a drop-in that makes Debian's mosquitto.service the site's broker) and hardware/pi-setup.sh.

Nothing here needs root: the set-up script runs with `--prefix` into a temporary directory (it
skips, and prints, what only root may do), and the units are checked offline with
`systemd-analyze verify` against that directory as the root (`make test` installs shellcheck
and systemd-analyze with the other Debian packages; a check without its tool fails).
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from gateway.config import load

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "hardware" / "pi-setup.sh"
UNITS = ROOT / "deploy" / "systemd"
OURS = ("stockwire-gateway.service", "stockwire-ledger.service")
DROPIN = "mosquitto.service.d/stockwire.conf"
ALL_UNITS = ("mosquitto.service", *OURS)
# Debian 12's own mosquitto.service, for a machine without the package (the drop-in needs it)
DEBIAN_MOSQUITTO = """[Unit]
Description=Mosquitto MQTT Broker
After=network.target
Wants=network.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
ExecStartPre=/bin/mkdir -m 740 -p /var/log/mosquitto
ExecStartPre=/bin/chown mosquitto /var/log/mosquitto

[Install]
WantedBy=multi-user.target
"""
HARDENED = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "Restart": "on-failure",
    "CapabilityBoundingSet": "",
}


def setup(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file as {section: [(key, value), ...]}; keys may repeat, as systemd allows."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if m := re.fullmatch(r"\[(\w+)\]", line):
            current = sections.setdefault(m[1], [])
            continue
        key, sep, value = line.partition("=")
        assert current is not None and sep and re.fullmatch(r"[A-Za-z]+", key), f"{path}:{n}"
        current.append((key, value))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], key: str) -> list[str]:
    return [v for k, v in unit["Service"] if k == key]


def value(unit: dict[str, list[tuple[str, str]]], key: str) -> str:
    found = values(unit, key)
    assert len(found) == 1, f"{key}: {found}"
    return found[0]


def installed(tmp_path: Path, *extra: str) -> Path:
    root = tmp_path / "root"
    setup("--prefix", str(root), "--no-venv", "--with-ledger", *extra)
    return root


def test_the_setup_script_passes_shellcheck() -> None:
    assert shutil.which("shellcheck"), "shellcheck missing: tools/system-packages.sh installs it"
    done = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_setup_into_a_prefix_writes_the_units_config_and_directories_without_root(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    out = setup("--prefix", str(root), "--no-venv", "--with-ledger", "--gpio",
                "--site", "north", "--gateway-id", "gw-7").stdout  # fmt: skip
    for unit in (*OURS, DROPIN):
        assert (root / "etc/systemd/system" / unit).read_text() == (UNITS / unit).read_text()
    dropin = (root / "etc/systemd/system/stockwire-gateway.service.d/gpio.conf").read_text()
    assert "SupplementaryGroups=gpio" in dropin
    for d in ("etc/stockwire/site", "var/lib/stockwire/buffer"):
        assert (root / d).is_dir()
    gateway_toml = root / "etc/stockwire/gateway.toml"
    assert stat.S_IMODE(gateway_toml.stat().st_mode) == 0o640
    config = load(gateway_toml)
    assert (config.site, config.gateway_id, config.mqtt.username) == ("north", "gw-7", "gw-7")
    assert config.buffer.path == "/var/lib/stockwire/buffer/gateway.db"
    ledger_toml = (root / "etc/stockwire/ledger.toml").read_text()
    assert re.search(r'admin_token = "[0-9a-f]{48}"', ledger_toml)
    assert (root / "opt/stockwire/docs/operations.md").is_file()
    assert (root / "usr/local/bin/stockwire").readlink() == Path(
        "/opt/stockwire/venv/bin/stockwire"
    )
    # what needs root is reported, not done
    enable = "systemctl enable " + " ".join(ALL_UNITS)
    for step in ("useradd --system", "chown root:mosquitto /etc/stockwire/site", enable):
        assert f"skip (--prefix): {step}" in out


def test_running_setup_again_changes_nothing_and_keeps_an_edited_config(tmp_path: Path) -> None:
    root = installed(tmp_path)
    gateway_toml = root / "etc/stockwire/gateway.toml"
    gateway_toml.write_text(gateway_toml.read_text().replace('password = ""', 'password = "x"'))
    out = setup("--prefix", str(root), "--no-venv", "--with-ledger").stdout
    assert not [line for line in out.splitlines() if line.startswith(("write:", "run:"))], out
    assert "ok: /etc/stockwire/gateway.toml exists; kept as it is" in out
    assert 'password = "x"' in gateway_toml.read_text()
    assert not (root / "etc/systemd/system/stockwire-gateway.service.d/gpio.conf").exists()


def test_a_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = setup("--dry-run", "--prefix", str(root), "--with-ledger").stdout
    assert not root.exists()
    for planned in ("would write: /etc/stockwire/gateway.toml (mode 0640)",
                    "would write: /etc/systemd/system/stockwire-gateway.service (mode 0644)",
                    "would run: useradd --system", "would run: systemctl enable",
                    f"would run: {root}/opt/stockwire/venv/bin/pip install"):  # fmt: skip
        assert planned in out, out


def test_each_unit_runs_unprivileged_sandboxed_and_restarts_on_failure() -> None:
    for name in (*OURS, DROPIN):
        unit = parse_unit(UNITS / name)
        assert value(unit, "User") == ("mosquitto" if name == DROPIN else "stockwire")
        for key, expected in HARDENED.items():
            assert value(unit, key) == expected, (name, key)
        families = set(value(unit, "RestrictAddressFamilies").split())
        assert families <= {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}, name
        if name != DROPIN:
            assert value(unit, "StateDirectory").startswith("stockwire/")
            assert ("WantedBy", "multi-user.target") in unit["Install"]


def test_the_gateway_unit_reads_input_devices_keeps_its_buffer_and_stops_cleanly() -> None:
    unit = parse_unit(UNITS / "stockwire-gateway.service")
    assert value(unit, "ExecStart").endswith("gateway run --config /etc/stockwire/gateway.toml")
    assert value(unit, "SupplementaryGroups") == "input"
    assert value(unit, "DevicePolicy") == "closed"
    assert "char-input rw" in values(unit, "DeviceAllow")
    assert value(unit, "StateDirectory") == "stockwire/buffer"  # the template's buffer path
    assert value(unit, "KillSignal") == "SIGTERM"
    # the gateway gives its committer 10 s to drain on SIGTERM, then closes in well under that
    assert int(value(unit, "TimeoutStopSec")) >= 20


def test_the_broker_unit_reads_the_site_directory_and_reloads_with_sighup(
    tmp_path: Path,
) -> None:
    unit = parse_unit(UNITS / DROPIN)
    # an empty value first clears Debian's own command
    assert values(unit, "ExecStart") == [
        "",
        "/usr/sbin/mosquitto -c /etc/stockwire/site/mosquitto.conf",
    ]
    assert values(unit, "ExecReload") == ["", "/bin/kill -HUP $MAINPID"]
    assert values(unit, "ExecStartPre") == [""]  # Debian's need root; systemd makes the dirs
    assert value(unit, "RuntimeDirectory") == "mosquitto"
    assert value(unit, "ReadWritePaths") == "/etc/stockwire/site/data"  # persistence
    out = setup("--dry-run", "--prefix", str(tmp_path / "root")).stdout
    assert (  # the set-up's next step writes what the drop-in reads
        "stockwire broker-config /etc/stockwire/site --user mosquitto "
        "--pid-file /run/mosquitto/mosquitto.pid" in out
    )


@pytest.fixture
def verifiable_root(tmp_path: Path) -> Path:
    """The set-up script's output plus what systemd-analyze needs to load the units offline:
    systemd's own units (sysinit.target and the rest) and the programs they start."""
    assert shutil.which("systemd-analyze"), "systemd-analyze missing: install Debian's systemd"
    root = installed(tmp_path, "--gpio")
    system_units = next(
        (p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()),
        None,
    )
    assert system_units is not None, "systemd's unit directory is missing"
    target = root / "usr/lib/systemd/system"
    shutil.copytree(system_units, target, symlinks=True)
    if not (target / "mosquitto.service").is_file():
        (target / "mosquitto.service").write_text(DEBIAN_MOSQUITTO)
    for path in (target / "mosquitto.service", *(UNITS / name for name in (*OURS, DROPIN))):
        for key in ("ExecStart", "ExecReload", "ExecStartPre"):
            for command in filter(None, values(parse_unit(path), key)):
                program = root / command.split()[0].lstrip("/")
                program.parent.mkdir(parents=True, exist_ok=True)
                program.write_text("#!/bin/sh\n")
                program.chmod(0o755)
    return root


def test_systemd_analyze_verify_accepts_every_unit_and_the_gpio_dropin(
    verifiable_root: Path,
) -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", f"--root={verifiable_root}", *ALL_UNITS],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "")


def test_systemd_analyze_security_rates_every_unit_ok(verifiable_root: Path) -> None:
    for name in ALL_UNITS:
        done = subprocess.run(
            ["systemd-analyze", "security", "--offline=yes", f"--root={verifiable_root}", name],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if "--offline" in done.stderr:
            pytest.skip("this systemd-analyze cannot rate units offline")
        verdict = done.stdout.strip().splitlines()[-1]
        assert re.search(r"exposure level for \S+: [0-9.]+ OK", verdict), verdict
