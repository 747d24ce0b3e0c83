"""Beancount v3 journal of valuation effects: a pure writer (effects in, text out).

It owns the chart of accounts and the posting of each effect kind (see `server.valuation.engine`
for what `inventory` and `cogs` mean):

    receipt             Assets:Inventory:<SKU>  / Liabilities:Goods-Received-Not-Invoiced
    opening             Assets:Inventory:<SKU>  / Equity:Opening-Balances
    issue:sale          Expenses:COGS           / Assets:Inventory:<SKU>
    issue:supplier-return  Liabilities:Goods-Received-Not-Invoiced / Assets:Inventory:<SKU>
                        (goods sent back: the supplier's credit note clears it)
    issue:<other>       Expenses:Inventory-Shrinkage / Assets:Inventory:<SKU>
    gain:return         Assets:Inventory:<SKU>  / Expenses:COGS (reverses COGS)
    gain:<other>        Assets:Inventory:<SKU>  / Expenses:Inventory-Shrinkage (a count gain
                        reduces shrinkage; there is no income account for inventory gains)
    revision            Assets:Inventory:<SKU> + Expenses:COGS / Liabilities:Goods-Received-...

An inflow's (or revision's) `cogs` is a COGS correction posted to Expenses:COGS; its counter-
account is credited `inventory + cogs`. Zero postings are left out, all-zero transactions too.

SKU names become account components: uppercased, each run of characters other than A-Z, 0-9
and "-" turned into one "-", and whenever that changed the name an 8-hex-digit hash of the
original SKU is appended (so "cln-200" -> "CLN-200-<hash>"); a name left unchanged is already
distinct, and two SKUs that still meet on one account are refused.

At the end one `balance` assertion per SKU (dated the day after `as_of`, i.e. at the end of
`as_of`) states the ledger's valuation, so `bean-check` proves journal and ledger agree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from server.valuation.engine import Effect

INVENTORY = "Assets:Inventory"
COGS = "Expenses:COGS"
SHRINKAGE = "Expenses:Inventory-Shrinkage"
GRNI = "Liabilities:Goods-Received-Not-Invoiced"
OPENING = "Equity:Opening-Balances"
LEDGER_ACCOUNTS = (COGS, SHRINKAGE, GRNI, OPENING)

_COMPONENT = re.compile(r"[A-Z0-9][A-Z0-9-]*")
_CURRENCY = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]")
_CENT = Decimal("0.0001")


@dataclass(frozen=True)
class SkuEffects:
    """One SKU's effects and its ending valuation (what the balance assertion states)."""

    sku: str
    effects: list[Effect]
    value: Decimal


def account_component(sku: str) -> str:
    """A valid Beancount account component for `sku` (see the module docstring)."""
    name = re.sub(r"[^A-Z0-9-]+", "-", sku.upper()).strip("-")
    if name == sku and _COMPONENT.fullmatch(name):
        return name
    digest = hashlib.sha256(sku.encode()).hexdigest()[:8].upper()
    return f"{name}-{digest}" if name else digest


def _amount(amount: Decimal, currency: str) -> str:
    rounded = amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return f"{rounded if rounded else abs(rounded):.4f} {currency}"


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", "?", escaped) + '"'


def _counter_account(kind: str) -> str | None:
    """The account credited `inventory + cogs` for an effect of this kind (None: issues)."""
    if kind in ("receipt", "revision"):
        return GRNI
    if kind == "opening":
        return OPENING
    if kind == "gain:return":
        return COGS
    if kind.startswith("gain:"):
        return SHRINKAGE
    if kind.startswith("issue:"):
        return None
    raise ValueError(f"unknown effect kind {kind!r}")


def _expense_account(kind: str) -> str:
    """The account debited `cogs`: goods received not invoiced for a return to the supplier,
    shrinkage for other non-sale issues, COGS otherwise."""
    if kind == "issue:supplier-return":
        return GRNI
    if kind.startswith("issue:") and kind != "issue:sale":
        return SHRINKAGE
    return COGS


def postings(effect: Effect, inventory_account: str) -> dict[str, Decimal]:
    """Amount per account (nonzero only, summing to 0) for one effect."""
    amounts: dict[str, Decimal] = {}

    def add(account: str, amount: Decimal) -> None:
        amounts[account] = amounts.get(account, Decimal(0)) + amount

    add(inventory_account, effect.inventory)
    add(_expense_account(effect.kind), effect.cogs)
    counter = _counter_account(effect.kind)
    if counter is not None:
        add(counter, -(effect.inventory + effect.cogs))
    return {account: amount for account, amount in amounts.items() if amount}


def _transaction(sku: str, account: str, effect: Effect, currency: str) -> list[str]:
    lines = postings(effect, account)
    if not lines:
        return []
    day = effect.at.astimezone(UTC).date()
    head = f"{day.isoformat()} * {_string(f'{effect.kind} {sku} qty {effect.qty:+d}')}"
    width = max(44, *(len(name) + 2 for name in lines))
    body = [f"  {name:<{width}}{_amount(amount, currency):>20}" for name, amount in lines.items()]
    return [head, f"  seq: {effect.seq}", f"  sku: {_string(sku)}", *body, ""]


def _accounts(entries: list[SkuEffects]) -> dict[str, str]:
    """SKU -> inventory account, refusing two SKUs on one account."""
    accounts: dict[str, str] = {}
    owners: dict[str, str] = {}
    for entry in entries:
        account = f"{INVENTORY}:{account_component(entry.sku)}"
        if owners.setdefault(account, entry.sku) != entry.sku:
            raise ValueError(f"SKUs {owners[account]!r} and {entry.sku!r} map to {account}")
        accounts[entry.sku] = account
    return accounts


def _check_dates(entries: list[SkuEffects], opened: date, as_of: date) -> None:
    for entry in entries:
        for effect in entry.effects:
            day = effect.at.astimezone(UTC).date()
            if not opened <= day <= as_of:
                raise ValueError(
                    f"{entry.sku} seq {effect.seq}: dated {day}, outside {opened}..{as_of}"
                )


def journal(entries: Iterable[SkuEffects], currency: str, opened: date, as_of: date) -> str:
    """The Beancount journal of all entries' effects, with a closing balance per SKU."""
    entries = list(entries)
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"{currency!r} is not a valid Beancount currency")
    if len({entry.sku for entry in entries}) != len(entries):
        raise ValueError("each SKU may appear only once")
    _check_dates(entries, opened, as_of)
    accounts = _accounts(entries)
    out = [f'option "operating_currency" "{currency}"', ""]
    for name in (*LEDGER_ACCOUNTS, *sorted(accounts.values())):
        out.append(f"{opened.isoformat()} open {name} {currency}")
    out.append("")
    items = [(effect, entry.sku) for entry in entries for effect in entry.effects]
    items.sort(key=lambda item: (item[0].at.astimezone(UTC).date(), item[0].seq, item[1]))
    for effect, sku in items:
        out.extend(_transaction(sku, accounts[sku], effect, currency))
    closing = (as_of + timedelta(days=1)).isoformat()
    for entry in sorted(entries, key=lambda e: accounts[e.sku]):
        out.append(f"{closing} balance {accounts[entry.sku]} {_amount(entry.value, currency)}")
    return "\n".join(out) + "\n"
