"""The ledger's command-line: `ledger serve|check|migrate|token|import` and `barcode explain`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.errors import SettingsError

if TYPE_CHECKING:
    from server.db.engine import Database


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.settings import Settings

    try:
        settings = Settings.from_toml(args.config)
    except (SettingsError, OSError) as exc:
        print(f"stockwire ledger serve: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


class CannotOpen(Exception):
    """The --db argument names no ledger we can read; the message is one line for a human."""


LEDGER_TABLES = ("skus", "gtins", "locations", "movements", "balances")


def _url(arg: str, create: bool = False) -> str:
    """A database URL, or a path to a SQLite file; nothing is created unless `create`."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in arg:
        path = Path(arg)
        if create:
            return f"sqlite:///{path.resolve()}"
        if not path.is_file():
            raise CannotOpen(f"no such file: {arg} (give a path to a ledger or a database URL)")
        return f"sqlite:///{path.resolve()}"
    try:
        url = make_url(arg)
    except ArgumentError:
        raise CannotOpen(f"not a database URL: {arg}") from None
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise CannotOpen(f"not a SQLite file: {arg}")
        if not create and not Path(url.database).is_file():
            raise CannotOpen(f"no such file: {url.database}")
    return arg


async def _open(arg: str, create: bool = False) -> Database:
    """The ledger named by --db, checked to be one (its tables exist) before it is used;
    with `create`, any database (a new SQLite file included) to migrate into a ledger."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from server.app import ledger_database

    url = _url(arg, create)
    if "://" in arg:
        arg = make_url(arg).render_as_string(hide_password=True)  # for the messages below
    if url.startswith("sqlite") and not create:
        _sqlite_tables(str(make_url(url).database))
    try:
        db = ledger_database(url)
    except Exception as exc:  # an unsupported dialect, a missing driver
        raise CannotOpen(f"cannot use {arg}: {_one_line(exc)}") from None
    try:
        async with db.engine.connect() as conn:
            missing = await conn.run_sync(
                lambda sync: [t for t in LEDGER_TABLES if not inspect(sync).has_table(t)]
            )
    except Exception as exc:
        await db.dispose()
        raise CannotOpen(f"cannot open {arg}: {_one_line(exc)}") from None
    if missing and not create:
        await db.dispose()
        raise CannotOpen(f"not a Stockwire ledger: {arg} has no table {', '.join(missing)}")
    return db


def _sqlite_tables(path: str) -> None:
    """Look inside a SQLite file read-only first: opening it as a ledger would set WAL mode."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise CannotOpen(f"cannot open {path}: {_one_line(exc)}") from None
    missing = [t for t in LEDGER_TABLES if t not in names]
    if missing:
        raise CannotOpen(f"not a Stockwire ledger: {path} has no table {', '.join(missing)}")


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check(args: argparse.Namespace) -> int:
    return asyncio.run(_check_async(args))


async def _check_async(args: argparse.Namespace) -> int:
    from server.ledger.check import check

    try:
        db = await _open(args.db)
    except CannotOpen as exc:
        print(f"stockwire ledger check: {exc}", file=sys.stderr)
        return 2
    try:
        bad = await db.read(check)
    except Exception as exc:
        print(f"stockwire ledger check: cannot read {args.db}: {_one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        await db.dispose()
    if bad:
        print(f"{len(bad)} problem(s): balances that differ from their movements or reservations, "
              "or impossible values:", file=sys.stderr)  # fmt: skip
        for row in bad:
            print(f"  {row}", file=sys.stderr)
        return 1
    print("ok: every balance equals the sum of its movements")
    return 0


def _unescape(code: str) -> str:
    """Let a shell user type the GS separator as \\x1d, \\u001d or <GS>."""
    for spelling in ("\\x1d", "\\u001d", "<GS>"):
        code = code.replace(spelling, "\x1d")
    return code


def _explain(args: argparse.Namespace) -> int:
    return asyncio.run(_explain_async(args))


async def _explain_async(args: argparse.Namespace) -> int:
    from server.barcodes.explain import explain

    args.code = _unescape(args.code)

    if args.db:
        try:
            db = await _open(args.db)
        except CannotOpen as exc:
            print(f"stockwire barcode explain: {exc}", file=sys.stderr)
            return 2
        try:
            doc = await db.read(lambda conn: explain(args.code, conn))
        except Exception as exc:
            print(f"stockwire barcode explain: cannot read {args.db}: {_one_line(exc)}",
                  file=sys.stderr)  # fmt: skip
            return 2
        finally:
            await db.dispose()
    else:
        doc = explain(args.code)
    if args.json:
        print(json.dumps(doc))
    else:
        shown = {k: v for k, v in doc.items() if v not in (None, "")}
        width = max(map(len, shown))
        for key, value in shown.items():
            print(f"{key:>{width}}: {_printable(key, value)}")
    return 0 if doc["ok"] else 1


def _printable(key: str, value: Any) -> str:
    """Codes and any text with control characters (GS, ESC, ...) shown escaped, never raw."""
    if isinstance(value, str) and (key == "code" or not value.isprintable()):
        return repr(value)
    return str(value)


def add_commands(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="the stock ledger (FastAPI)")
    sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the ledger API")
    serve.add_argument("--config", required=True, help="ledger.toml")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8400)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)
    chk = sub.add_parser("check", help="prove every balance equals the sum of its movements")
    chk.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    chk.set_defaults(handler=_check)
    mig = sub.add_parser("migrate", help="create or upgrade a ledger's schema (Alembic)")
    mig.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    mig.set_defaults(handler=_migrate)
    tok = sub.add_parser("token", help="issue, list or revoke API tokens")
    tsub = tok.add_subparsers(dest="token_command", required=True, metavar="COMMAND")
    make = tsub.add_parser("create", help="issue a token (printed once)")
    make.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    make.add_argument("--name", required=True)
    make.add_argument("--role", required=True, choices=["admin", "clerk", "readonly", "gateway"])
    make.add_argument("--gateway", default="", help="the gateway id (role gateway)")
    make.set_defaults(handler=_token_create)
    lst = tsub.add_parser("list", help="tokens and their roles (never the secrets)")
    lst.add_argument("--db", required=True)
    lst.set_defaults(handler=_token_list)
    rev = tsub.add_parser("revoke", help="revoke a token by name")
    rev.add_argument("--db", required=True)
    rev.add_argument("--name", required=True)
    rev.set_defaults(handler=_token_revoke)
    imp = sub.add_parser("import", help="import the catalog or a baseline stocktake from CSV")
    isub = imp.add_subparsers(dest="import_command", required=True, metavar="COMMAND")
    for name, what in (("catalog", "SKUs and GTINs"), ("stocktake", "opening stock")):
        one = isub.add_parser(name, help=f"{what} from a CSV file (all rows or none)")
        one.add_argument("file", help="the CSV file ('-': standard input)")
        if name == "stocktake":
            one.add_argument("--ref", required=True, type=_identifier, help="used once")
        one.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
        one.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        one.add_argument("--json", action="store_true", help="print the whole answer as JSON")
        one.set_defaults(handler=_import)
    from server.accounting.cli import add_export

    add_export(sub)
    from server.purchasing.cli import add_commands as add_purchasing

    add_purchasing(sub)
    from server.ledger.features import add_commands as add_features

    add_features(sub)

    barcode = commands.add_parser("barcode", help="barcode tools")
    bsub = barcode.add_subparsers(dest="barcode_command", required=True, metavar="COMMAND")
    exp = bsub.add_parser("explain", help="what the ledger makes of a code")
    exp.add_argument("code")
    exp.add_argument("--json", action="store_true")
    exp.add_argument("--db", help="database URL or SQLite path: also name the SKU")
    exp.set_defaults(handler=_explain)


def _migrate(args: argparse.Namespace) -> int:
    async def go() -> int:
        from server.app import prepare
        from server.db.migrate import revision

        try:
            db = await _open(args.db, create=True)
        except CannotOpen as exc:
            print(f"stockwire ledger migrate: {exc}", file=sys.stderr)
            return 2
        try:
            found = await revision(db)
            before, after = await prepare(db)
        except Exception as exc:
            print(f"stockwire ledger migrate: {_one_line(exc)}", file=sys.stderr)
            return 2
        finally:
            await db.dispose()
        if before == after:
            print(f"ok: already at schema revision {after}")
            return 0
        if found is None and before is not None:
            print(f"a ledger from before migrations: stamped as revision {before}")
        print(f"ok: schema revision {before or '(empty)'} -> {after}")
        return 0

    return asyncio.run(go())


def _with_ledger(command: str, args: argparse.Namespace, fn: Any, write: bool) -> int:
    """Run fn(conn) on --db and print its JSON answer; a LedgerError is one line, exit 1."""
    from server.ledger.command import as_json, run

    return run(command, args.db, fn, write, as_json)


def _token_create(args: argparse.Namespace) -> int:
    from server.access.tokens import issue

    return _with_ledger(
        "ledger token create",
        args,
        lambda conn: issue(conn, args.name, args.role, args.gateway),
        write=True,
    )


def _token_list(args: argparse.Namespace) -> int:
    from server.access.tokens import list_all

    return _with_ledger("ledger token list", args, list_all, write=False)


def _token_revoke(args: argparse.Namespace) -> int:
    from server.access.tokens import revoke

    return _with_ledger(
        "ledger token revoke", args, lambda conn: revoke(conn, args.name), write=True
    )


def _identifier(text: str) -> str:
    from server.validation import check_identifier

    try:
        return check_identifier(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _import(args: argparse.Namespace) -> int:
    """`ledger import catalog|stocktake FILE`: a summary; the row errors and exit 1; exit 2
    when the file or the ledger cannot be opened."""
    from server.errors import LedgerError
    from server.imports import catalog, report, stocktake
    from server.imports.csvfile import MAX_BYTES, ImportRejected

    command = f"stockwire ledger import {args.import_command}"
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(args.file, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)  # more is refused as too large
    except OSError as exc:
        print(f"{command}: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    def run(conn: Any) -> dict[str, Any]:
        if args.import_command == "catalog":
            return catalog.run(conn, data, args.dry_run)
        return stocktake.run(conn, args.ref, data, args.dry_run)

    async def go() -> int:
        try:
            db = await _open(args.db)
        except CannotOpen as exc:
            print(f"{command}: {exc}", file=sys.stderr)
            return 2
        try:
            doc = await (db.read(run) if args.dry_run else db.write(run))
        except ImportRejected as exc:
            print(f"{command}: " + "\n".join(report.errors(exc)), file=sys.stderr)
            return 1
        except LedgerError as exc:
            print(f"{command}: {exc}", file=sys.stderr)
            return 1
        finally:
            await db.dispose()
        kind = args.import_command
        print(json.dumps(doc, indent=2) if args.json else "\n".join(report.summary(kind, doc)))
        return 0

    return asyncio.run(go())
