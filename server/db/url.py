"""Database URLs as operators write them (`sqlite:///ledger.db`, `postgresql://…`) turned into
the async drivers' URLs (aiosqlite, asyncpg) and the connect arguments those drivers need."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def backend(url: str | URL) -> str:
    """'sqlite' or 'postgresql'; ValueError for anything else."""
    name = make_url(url).get_backend_name()
    if name not in _DRIVERS:
        raise ValueError(f"unsupported database {name!r}: use sqlite or postgresql")
    return name


def async_url(url: str | URL) -> tuple[URL, dict[str, Any]]:
    """The async driver's URL and connect_args for an operator's URL (any driver named in it,
    such as `postgresql+psycopg`, is replaced). libpq's `options=-csearch_path=X` becomes an
    asyncpg server setting, since asyncpg does not take `options`."""
    parsed = make_url(url)
    name = backend(parsed)
    parsed = parsed.set(drivername=_DRIVERS[name])
    connect_args: dict[str, Any] = {}
    if name == "postgresql":
        query = dict(parsed.query)
        options = query.pop("options", None)
        settings = _libpq_options(options if isinstance(options, str) else "")
        if settings:
            connect_args["server_settings"] = settings
        parsed = parsed.set(query=query)
    return parsed, connect_args


def _libpq_options(options: str) -> dict[str, str]:
    """`-csearch_path=a -c statement_timeout=5s` -> {'search_path': 'a', ...}."""
    settings: dict[str, str] = {}
    words = unquote(options).split()
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            word, i = "-c" + words[i + 1], i + 1
        if word.startswith("-c") and "=" in word:
            key, _, value = word[2:].partition("=")
            settings[key.strip()] = value.strip()
        i += 1
    return settings


def display(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
