"""The location tree: which kind of location may sit under which, placing a location in the
tree (with its negative-stock policy), a node's subtree, and the nested tree with on hand
rolled up per node.

Rules: a site is a root; a warehouse goes under a site; a zone under a warehouse; a bin under a
zone or a warehouse, or stands alone (every location made before the tree existed is such a
bin). A real location never goes under a virtual one, and no location under itself. Only bins
hold stock, so a location holding stock stays a bin. A location whose policy is `allow` and
whose on hand is below zero cannot be set back to `refuse` until the stock is booked in.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from server.db.schema import balances, locations, skus
from server.errors import Conflict, NotFound, Refused

KINDS = ("site", "warehouse", "zone", "bin")
POLICIES = ("refuse", "allow")
_UNDER: dict[str, tuple[str, ...]] = {
    "site": (),
    "warehouse": ("site",),
    "zone": ("warehouse",),
    "bin": ("zone", "warehouse"),
}
_NEEDS_PARENT = ("warehouse", "zone")


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    code: str
    parent_id: int | None
    kind: str
    virtual: bool
    negative: str


def placement_error(kind: str, parent: str | None, parent_kind: str | None) -> str | None:
    """Why a `kind` cannot go under `parent` (of `parent_kind`), or None when it can."""
    allowed = _UNDER[kind]
    if parent is None or parent_kind is None:
        if kind in _NEEDS_PARENT:
            return f"a {kind} goes under a {' or '.join(allowed)}: name its parent"
        return None
    if kind == "site":
        return f"a site is a root of the tree: it has no parent (got {parent!r})"
    if parent_kind not in allowed:
        return f"a {kind} goes under a {' or '.join(allowed)}, and {parent} is a {parent_kind}"
    return None


def nodes(conn: Connection) -> dict[int, Node]:
    query = select(
        locations.c.id,
        locations.c.code,
        locations.c.parent_id,
        locations.c.kind,
        locations.c.virtual,
        locations.c.negative,
    )
    return {
        r.id: Node(r.id, r.code, r.parent_id, r.kind, bool(r.virtual), r.negative)
        for r in conn.execute(query)
    }


def _is_inside(all_nodes: dict[int, Node], node: Node, ancestor_id: int) -> bool:
    """Whether `node` is `ancestor_id` or lies under it (tolerates cycles in old data)."""
    seen: set[int] = set()
    walk: Node | None = node
    while walk is not None and walk.id not in seen:
        if walk.id == ancestor_id:
            return True
        seen.add(walk.id)
        walk = all_nodes.get(walk.parent_id) if walk.parent_id is not None else None
    return False


def _check_kind_change(conn: Connection, all_nodes: dict[int, Node], me: Node, kind: str) -> None:
    for child in sorted(all_nodes.values(), key=lambda n: n.code):
        if child.parent_id == me.id and kind not in _UNDER.get(child.kind, ()):
            raise Refused(
                "bad kind",
                f"{child.code} (a {child.kind}) is under {me.code}, "
                f"and a {child.kind} cannot go under a {kind}",
            )
    if kind != "bin":
        held = conn.execute(
            select(func.coalesce(func.sum(func.abs(balances.c.on_hand)), 0)).where(
                balances.c.loc_id == me.id
            )
        ).scalar_one()
        if held:
            raise Conflict(
                "location holds stock",
                f"{me.code} holds stock ({int(held)} units): only a bin holds stock, "
                f"move it out before making it a {kind}",
            )


def _check_no_negative(conn: Connection, me: Node) -> None:
    row = conn.execute(
        select(skus.c.sku, balances.c.lot, balances.c.on_hand)
        .join(skus, skus.c.id == balances.c.sku_id)
        .where(balances.c.loc_id == me.id, balances.c.on_hand < 0)
        .order_by(skus.c.sku, balances.c.lot)
    ).first()
    if row is not None:
        lot = f" lot {row.lot!r}" if row.lot else ""
        raise Conflict(
            "negative stock",
            f"{row.sku}{lot} is at {int(row.on_hand)} at {me.code}: "
            "book the missing stock in before refusing negative stock here",
        )


def place(
    conn: Connection,
    code: str,
    loc_id: int | None,
    kind: str,
    parent: str | None,
    negative: str,
) -> None:
    """Create (loc_id None) or change a real location, enforcing the tree's rules."""
    if kind not in KINDS:
        raise Refused("bad kind", f"{kind!r}: a location is a site, warehouse, zone or bin")
    if negative not in POLICIES:
        raise Refused("bad policy", f"negative={negative!r}: refuse or allow")
    all_nodes = nodes(conn)
    by_code = {n.code: n for n in all_nodes.values()}
    me = all_nodes.get(loc_id) if loc_id is not None else None
    up = by_code.get(parent) if parent is not None else None
    if parent is not None and up is None:
        raise Refused("unknown location", f"no parent location {parent!r}")
    moved = me is None or me.kind != kind or me.parent_id != (up.id if up else None)
    if up is not None and up.virtual:
        raise Refused(
            "bad parent",
            f"{code} is a real location and cannot go under the virtual location {up.code}",
        )
    if me is not None and up is not None and _is_inside(all_nodes, up, me.id):
        what = "itself" if up.id == me.id else f"{up.code}, which is inside it"
        raise Refused("bad parent", f"{code} cannot go under {what}: that would make a cycle")
    if moved and (error := placement_error(kind, parent, up.kind if up else None)):
        raise Refused("bad parent", error)
    if me is not None and me.kind != kind:
        _check_kind_change(conn, all_nodes, me, kind)
    if me is not None and negative == "refuse" and me.negative != "refuse":
        _check_no_negative(conn, me)
    values = {"parent_id": up.id if up else None, "kind": kind, "negative": negative}
    if me is None:
        conn.execute(locations.insert().values(code=code, virtual=False, covered=True, **values))
    else:
        conn.execute(locations.update().where(locations.c.id == me.id).values(**values))


def covered(all_nodes: dict[int, Node], codes: Collection[str]) -> list[str]:
    """Codes of the real locations that are one of `codes` or lie under one (unknown codes
    cover nothing)."""
    roots = [n.id for n in all_nodes.values() if n.code in codes]
    return sorted(
        n.code
        for n in all_nodes.values()
        if not n.virtual and any(_is_inside(all_nodes, n, r) for r in roots)
    )


def subtree(conn: Connection, code: str) -> list[int]:
    """Ids of the location `code` and of every location under it; NotFound if unknown."""
    all_nodes = nodes(conn)
    root = next((n for n in all_nodes.values() if n.code == code), None)
    if root is None:
        raise NotFound("unknown location", code)
    return sorted(n.id for n in all_nodes.values() if _is_inside(all_nodes, n, root.id))


def _own_stock(conn: Connection, sku: str | None) -> dict[int, dict[str, int]]:
    query = (
        select(balances.c.loc_id, skus.c.sku, func.sum(balances.c.on_hand).label("on_hand"))
        .join(skus, skus.c.id == balances.c.sku_id)
        .group_by(balances.c.loc_id, skus.c.sku)
    )
    if sku is not None:
        query = query.where(skus.c.sku == sku)
    own: dict[int, dict[str, int]] = {}
    for row in conn.execute(query):
        own.setdefault(row.loc_id, {})[row.sku] = int(row.on_hand)
    return own


def tree(conn: Connection, include_virtual: bool = False, sku: str | None = None) -> list[Any]:
    """The locations as nested nodes, each with the on hand of itself and everything under it
    (`on_hand` in total, `stock` per SKU, zeros left out), children sorted by code."""
    all_nodes = nodes(conn)
    own = _own_stock(conn, sku)
    shown = {i: n for i, n in all_nodes.items() if include_virtual or not n.virtual}
    children: dict[int | None, list[Node]] = {}
    for node in sorted(shown.values(), key=lambda n: n.code):
        parent = node.parent_id if node.parent_id in shown else None
        children.setdefault(parent, []).append(node)
    built: set[int] = set()

    def build(node: Node) -> dict[str, Any]:
        built.add(node.id)
        kids = [build(c) for c in children.get(node.id, []) if c.id not in built]
        stock = dict(own.get(node.id, {}))
        for kid in kids:
            for name, qty in kid["stock"].items():
                stock[name] = stock.get(name, 0) + qty
        stock = {name: qty for name, qty in sorted(stock.items()) if qty != 0}
        return {
            "code": node.code,
            "kind": node.kind,
            "virtual": node.virtual,
            "negative": node.negative,
            "on_hand": sum(stock.values()),
            "stock": stock,
            "children": kids,
        }

    roots = [build(n) for n in children.get(None, [])]
    # a cycle left by data older than these rules has no root: show it from its first code
    roots += [build(n) for n in sorted(shown.values(), key=lambda n: n.code) if n.id not in built]
    return roots
