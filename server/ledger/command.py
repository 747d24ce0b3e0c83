"""Running one service function on the ledger named by `--db` for a `stockwire ledger` command.

The feature CLIs (stock, quarantine, counts, reservations, movements, shrinkage) call the same
sync service functions as their API routes, through `Database.write` (the in-transaction hooks
of `server.app.ledger_database`: channel outbox marks, reorder alerts) or `Database.read`.
Exit 0 with the rendered answer, 1 when the ledger refuses (a `LedgerError`, or a request the
API would answer 422 `invalid request`), 2 when the database cannot be opened or read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

Render = Callable[[Any], str]
Handler = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def loaded(handler: Handler) -> Handler:
    """`handler` after importing the app as `ledger serve` does: every after-move hook
    (counts absorbing late movements, picks consuming reservations) registers in the API's
    order before any service module a command imports."""

    def run(args: argparse.Namespace) -> int:
        import server.app  # noqa: F401

        return handler(args)

    return run


def execute(command: str, db_arg: str, fn: Callable[[Any], T], write: bool) -> tuple[int, T | None]:
    """(0, fn(conn)) in one write (hooks included) or read transaction on --db; else (exit
    code, None) after printing one line on stderr: 1 when the ledger refuses or a date is out
    of range, 2 when the database cannot be opened or used."""
    from server.cli import CannotOpen, _one_line, _open
    from server.errors import LedgerError

    async def go() -> tuple[int, T | None]:
        try:
            db = await _open(db_arg)
        except CannotOpen as exc:
            print(f"stockwire {command}: {exc}", file=sys.stderr)
            return 2, None
        try:
            return 0, await (db.write(fn) if write else db.read(fn))
        except LedgerError as exc:
            print(f"stockwire {command}: {exc}", file=sys.stderr)
            return 1, None
        except OverflowError as exc:  # a date at the edge of the calendar, given by the user
            print(f"stockwire {command}: out of range: {exc}", file=sys.stderr)
            return 1, None
        except Exception as exc:
            print(f"stockwire {command}: cannot use {db_arg}: {_one_line(exc)}", file=sys.stderr)
            return 2, None
        finally:
            await db.dispose()

    return asyncio.run(go())


def run(command: str, db_arg: str, fn: Callable[[Any], T], write: bool, render: Render) -> int:
    """`execute`, then print the rendered answer."""
    code, doc = execute(command, db_arg, fn, write)
    if code == 0:
        print(render(doc))
    return code


def validated(command: str, schema: Any, doc: Any) -> Any | None:
    """`doc` checked by the API's request model (or an Annotated union of them), else None
    after printing one line, as the API's 422 `invalid request` would say it."""
    try:
        return TypeAdapter(schema).validate_python(doc)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"][-1:])
            problems.append(f"{where}: {error['msg']}" if where else error["msg"])
        print(f"stockwire {command}: invalid request: {'; '.join(problems)}", file=sys.stderr)
        return None


def as_json(doc: Any) -> str:
    return json.dumps(doc, indent=2)


def lines(key: str, line: Callable[[dict[str, Any]], str], as_json_: bool) -> Render:
    """One line per row of a list answer, `(no KEY)` for none; `--json`: {key: rows}."""

    def render(rows: list[dict[str, Any]]) -> str:
        if as_json_:
            return as_json({key: rows})
        return "\n".join(line(r) for r in rows) if rows else f"(no {key.replace('_', ' ')})"

    return render


def or_json(text: Callable[[Any], str], json_: bool) -> Render:
    return as_json if json_ else text


def shown(value: Any) -> str:
    """A figure or '-' for none (hidden in a blind count, not known yet)."""
    return "-" if value is None or value == "" else str(value)
