"""Ledger settings: loaded from TOML (plus env overrides), refusing missing or default secrets."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.errors import SettingsError

_WEAK = {"", "changeme", "change-me", "changethis", "secret", "admin", "token", "password"}
MIN_TOKEN_CHARS = 16


def _check_token(name: str, token: Any) -> str:
    if not isinstance(token, str) or not token:
        raise SettingsError("missing secret", f"{name} is not set")
    if token.lower() in _WEAK or len(token) < MIN_TOKEN_CHARS:
        raise SettingsError(
            "weak secret", f"{name} is a default or shorter than {MIN_TOKEN_CHARS} characters"
        )
    return token


_KEYS = {"db_url", "admin_token", "gateways", "push_timeout_s"}  # what ledger.toml may hold


@dataclass(frozen=True)
class Settings:
    """Everything the app factory needs. Construct it, then the app; nothing at import time."""

    db_url: str
    admin_token: str
    gateway_tokens: Mapping[str, str] = field(default_factory=dict)
    dispatcher: bool = True  # run the channel push dispatcher in the app's lifespan
    push_timeout_s: float = 5.0
    push_poll_s: float = 1.0

    def __post_init__(self) -> None:
        if not self.db_url:
            raise SettingsError("missing setting", "db_url is not set")
        _check_token("admin_token", self.admin_token)
        for gw, token in self.gateway_tokens.items():
            _check_token(f"gateways.{gw}", token)
            if token == self.admin_token:
                raise SettingsError("reused secret", f"gateway {gw} uses the admin token")

    @classmethod
    def from_toml(cls, path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
        try:
            doc = tomllib.loads(Path(path).read_text())
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError("bad setting", f"{path} is not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise SettingsError("bad setting", f"{path} is not UTF-8 text") from None
        return cls.from_mapping(doc, env)

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        unknown = sorted(set(doc) - _KEYS)
        if unknown:
            raise SettingsError(
                "bad setting", f"unknown keys or tables: {', '.join(unknown)} (a misspelling?)"
            )
        gateways = doc.get("gateways", {})
        if not isinstance(gateways, dict):
            raise SettingsError("bad setting", "[gateways] must be a table of id = token")
        return cls(
            db_url=env.get("STOCKWIRE_DB_URL") or str(doc.get("db_url", "")),
            admin_token=env.get("STOCKWIRE_ADMIN_TOKEN") or str(doc.get("admin_token", "")),
            gateway_tokens={str(k): v for k, v in gateways.items()},
            push_timeout_s=float(doc.get("push_timeout_s", 5.0)),
        )
