"""The site's device registry: which MQTT logins exist for one site, kept in a directory.

Owns `registry.json` in the site directory (`--site-dir`, else $STOCKWIRE_SITE_DIR, else
/etc/stockwire/site), written with mode 0600 and replaced atomically: the site's name, every
login (scanner, gateway or monitor) with its mosquitto `$7$` password hash only (the plaintext
exists only in the device's own config), when it was created, last rotated and revoked, and
where the broker's files were last written (so a revocation can rewrite and reload them).
A revoked login stays listed (with its time) but is left out of the broker's files.
Read-modify-write happens under an exclusive lock on the directory's `.lock` file.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.broker import ROLES, BrokerSite, hash_password
from stockwire.files import write_private
from stockwire.wire import valid_name

DEFAULT_SITE_DIR = Path("/etc/stockwire/site")
REGISTRY_FILE = "registry.json"


class RegistryError(Exception):
    """A registry operation that cannot be done (unknown device, already provisioned, ...)."""


def default_site_dir() -> Path:
    return Path(os.environ.get("STOCKWIRE_SITE_DIR") or DEFAULT_SITE_DIR)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Login:
    """One MQTT login of the site, as the registry keeps it (no plaintext)."""

    name: str
    role: str
    password_hash: str
    created: str
    rotated: str | None = None
    revoked: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None


@dataclass(frozen=True)
class BrokerFiles:
    """Where `stockwire broker-config` last wrote the broker's files, and how it runs."""

    dir: str
    pid_file: str
    user: str | None = None


@dataclass
class Registry:
    """One site's logins, loaded from and saved to its directory."""

    directory: Path
    site: str
    logins: dict[str, Login]
    broker: BrokerFiles | None = None

    @property
    def path(self) -> Path:
        return self.directory / REGISTRY_FILE

    @classmethod
    def load(cls, directory: Path, site: str | None = None) -> Registry:
        """The registry in `directory`; a new, empty one for `site` when there is none yet."""
        path = directory / REGISTRY_FILE
        if not path.exists():
            if site is None:
                raise RegistryError(
                    f"no device registry in {directory}: `stockwire provision scanner|gateway"
                    f" NAME --site SITE` or `broker-config DIR --site SITE` starts one"
                )
            if not valid_name(site):
                raise RegistryError(f"invalid site name {site!r}")
            return cls(directory, site, {})
        doc = json.loads(path.read_text())
        if site is not None and site != doc["site"]:
            raise RegistryError(
                f"{directory} is the registry of site {doc['site']!r}, not {site!r}"
            )
        logins = {name: Login(name=name, **entry) for name, entry in doc["logins"].items()}
        broker = BrokerFiles(**doc["broker"]) if doc.get("broker") else None
        return cls(directory, doc["site"], logins, broker)

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        doc: dict[str, Any] = {
            "site": self.site,
            "logins": {
                name: {k: v for k, v in asdict(login).items() if k != "name"}
                for name, login in sorted(self.logins.items())
            },
            "broker": asdict(self.broker) if self.broker else None,
        }
        write_private(self.path, json.dumps(doc, indent=1) + "\n")

    def provision(self, name: str, role: str, password: str, rotate: bool = False) -> Login:
        """Record `name` with the hash of `password`; an existing login needs `rotate`."""
        if role not in ROLES:
            raise RegistryError(f"unknown role {role!r}")
        if not valid_name(name):
            raise RegistryError(f"invalid device name {name!r}")
        old = self.logins.get(name)
        if old is not None and old.role != role:
            raise RegistryError(f"{name} is already provisioned as a {old.role}, not a {role}")
        if old is not None and not rotate:
            state = f"revoked {old.revoked}" if old.revoked else f"created {old.created}"
            raise RegistryError(
                f"{name} is already provisioned ({state}); give --rotate to issue a new "
                "password (the device then needs its new config)"
            )
        login = Login(name, role, hash_password(password), now())
        if old is not None:
            login = replace(login, created=old.created, rotated=login.created)
        self.logins[name] = login
        return login

    def revoke(self, name: str) -> Login:
        login = self.logins.get(name)
        if login is None:
            raise RegistryError(f"{name} is not provisioned")
        if login.revoked:
            raise RegistryError(f"{name} was already revoked at {login.revoked}")
        self.logins[name] = replace(login, revoked=now())
        return self.logins[name]

    def broker_site(self) -> BrokerSite:
        """The broker's view: every active login, by its hash."""
        site = BrokerSite(self.site)
        for login in sorted(self.logins.values(), key=lambda x: x.name):
            if login.active:
                site.add_hashed(login.name, login.role, login.password_hash)
        return site


@contextmanager
def locked(directory: Path, create: bool = True) -> Iterator[None]:
    """Hold the site directory's lock (one registry change at a time). Without `create` a
    site directory that does not exist is an error, not made (nothing is left behind)."""
    if not create and not (directory / REGISTRY_FILE).exists():
        raise RegistryError(f"no device registry in {directory}")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
