"""Property-based tests (hypothesis) of the ledger's invariants, on both backends, through the
real service layer: random scan-event histories across a few bins and lots keep every balance
equal to the sum of its movements and never below zero where the policy refuses it; replaying
any prefix of them changes nothing; concurrent batches book only stock that was there.

One database per test (and backend); each hypothesis example books under fresh SKU, device and
reference names, so examples stay independent and cheap.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from server.app import open_database
from server.catalog.service import GtinIn, SkuIn
from server.catalog.service import upsert as add_sku
from server.db.engine import Database
from server.db.schema import balances, locations, movements, processed_events, quarantine, skus
from server.errors import is_outage
from server.ingest.service import process_batch
from server.ledger.check import check
from server.locations.service import upsert as add_location
from stockwire.wire import EventResult
from tests.server.support import scan

REFUSE_BINS = ("INV-A-01", "INV-A-02")  # the default policy: stock never below zero
ALLOW_BIN = "INV-B-01"  # negative: allow (booked below zero and flagged)
BINS = (*REFUSE_BINS, ALLOW_BIN)
LOTS = ("", "L1", "L2")  # "" scans the plain EAN-13: no lot, FEFO picks
EXPIRY = {"L1": "270131", "L2": "271231"}
MODES = ("receive", "receive", "pick", "pick", "transfer-out", "transfer-in", "return",
         "count", "count-close")  # fmt: skip
UNEXPECTED = ("cannot book", "bad event")  # an internal failure, or an event we built wrong
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RACES = settings(EXAMPLES, max_examples=25)  # PostgreSQL detects each deadlock after 1 s
_tags = itertools.count(1)
_RESENDS = 10


def gtin13(n: int) -> str:
    """A valid EAN-13 no other test uses (GS1 prefix 590, the example number, check digit)."""
    body = f"590{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass
class Ledger:
    """A migrated ledger on the test's backend, driven from sync code on one event loop (the
    async engine's connections belong to the loop that opened them)."""

    runner: asyncio.Runner
    db: Database
    resent: int = 0

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    def batch(self, events: list[dict[str, Any]]) -> list[EventResult]:
        results: list[EventResult] = self.run(process_batch(self.db, "gw-1", events))
        return results

    def race(self, batches: list[list[dict[str, Any]]]) -> list[list[EventResult]]:
        """Every batch posted at once, each in its own transaction on its own connection. A
        batch the API would answer 503 (a deadlock that outlived process_batch's retries) is
        sent again, as the gateway does."""

        async def send(batch: list[dict[str, Any]]) -> list[EventResult]:
            for _ in range(_RESENDS):
                try:
                    return await process_batch(self.db, "gw-1", batch)
                except DBAPIError as exc:
                    if not is_outage(exc):
                        raise
                    self.resent += 1
            return await process_batch(self.db, "gw-1", batch)

        async def go() -> list[list[EventResult]]:
            return list(await asyncio.gather(*(send(b) for b in batches)))

        results: list[list[EventResult]] = self.run(go())
        return results

    def read(self, fn: Any, *args: Any) -> Any:
        return self.run(self.db.read(fn, *args))

    def write(self, fn: Any, *args: Any) -> Any:
        return self.run(self.db.write(fn, *args))


def _bins(conn: Connection) -> None:
    for code in REFUSE_BINS:
        add_location(conn, code, None)
    add_location(conn, ALLOW_BIN, None, negative="allow")


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    runner = asyncio.Runner()
    db = runner.run(open_database(db_url))
    runner.run(db.write(_bins))
    try:
        yield Ledger(runner, db)
    finally:
        runner.run(db.dispose())
        runner.close()


@dataclass
class World:
    """One example's fresh names: SKUs with their EANs, a device, reference prefixes."""

    tag: int
    skus: list[tuple[str, str]]  # (sku, ean13)

    @classmethod
    def make(cls, ledger: Ledger, n_skus: int = 2) -> World:
        tag = next(_tags)
        made = [(f"INV{tag}-{i}", gtin13(tag * 10 + i)) for i in range(n_skus)]
        ledger.write(
            lambda conn: [add_sku(conn, SkuIn(sku, gtins=(GtinIn(ean),))) for sku, ean in made]
        )
        return cls(tag, made)

    def code(self, sku: int, lot: str) -> str:
        ean = self.skus[sku][1]
        if not lot:
            return ean
        return f"]C101{'0' + ean}17{EXPIRY[lot]}10{lot}"  # GS1-128: GTIN, expiry, lot (last)

    def ref(self, kind: str, n: int) -> str:
        return f"{kind}{self.tag}-{n}"

    def sku_ids(self, conn: Connection) -> list[int]:
        names = [s for s, _ in self.skus]
        query = select(skus.c.id).where(skus.c.sku.in_(names))
        return [int(i) for i in conn.execute(query).scalars()]


Step = tuple[str, int, int, int, int, int]  # mode, sku, bin, lot, qty, ref
bins, qtys = st.integers(0, len(BINS) - 1), st.integers(1, 6)
step = st.tuples(
    st.sampled_from(MODES), st.integers(0, 1), bins, st.integers(0, len(LOTS) - 1), qtys,
    st.integers(0, 1),
)  # fmt: skip
LINKED = (
    ("receive", "transfer-out", "transfer-in"),
    ("count", "count-close"),
    ("receive", "count", "count-close"),
    ("receive", "pick"),
)


@st.composite
def histories(draw: st.DrawFn) -> list[Step]:
    """Random steps, plus a few linked runs (same SKU, lot, bin and reference, in order, other
    steps between them) so that transfers arrive, counts close and picks find stock often
    enough to matter."""
    out: list[Step] = draw(st.lists(step, max_size=20))
    for _ in range(draw(st.integers(0, 4))):
        _, sku, bin_, lot, _, ref = draw(step)
        run = draw(st.sampled_from(LINKED))
        at = sorted(draw(st.lists(st.integers(0, len(out)), min_size=len(run), max_size=len(run))))
        for offset, (i, mode) in enumerate(zip(at, run, strict=True)):
            where = draw(bins) if mode == "transfer-in" else bin_
            out.insert(i + offset, (mode, sku, where, lot, draw(qtys), ref))
    return out or [draw(step)]


def events_of(world: World, history: list[Step]) -> list[dict[str, Any]]:
    out = []
    for seq, (mode, sku, bin_, lot, qty, ref) in enumerate(history, start=1):
        if mode.startswith("transfer"):
            reference = world.ref("T", ref)
        elif mode.startswith("count"):
            reference = world.ref("C", ref)
        else:
            reference = ""
        code = world.code(sku, LOTS[lot])
        out.append(scan(f"dev{world.tag}", seq, code, mode, BINS[bin_], reference, qty))
    return out


def split(draw: st.DataObject, items: list[Any]) -> list[list[Any]]:
    """items cut into consecutive batches at points hypothesis chooses."""
    if not items:
        return []
    cuts = draw.draw(st.sets(st.integers(1, max(1, len(items) - 1)), max_size=len(items)))
    bounds = [0, *sorted(c for c in cuts if c < len(items)), len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


def state(world: World) -> Any:
    """What a replay must not change: this example's balances (virtual locations included),
    and the ledger-wide movement, processed-event and quarantine counts."""

    def read(conn: Connection) -> Any:
        b = balances.c
        rows = conn.execute(
            select(b.sku_id, b.loc_id, b.lot, b.on_hand, b.reserved)
            .where(b.sku_id.in_(world.sku_ids(conn)))
            .order_by(b.sku_id, b.loc_id, b.lot)
        ).all()
        counts = [
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (movements, processed_events, quarantine)
        ]
        return [tuple(r) for r in rows], counts

    return read


def below_zero_where_refused(world: World) -> Any:
    def read(conn: Connection) -> list[Any]:
        b, loc = balances.c, locations.c
        return [
            tuple(r)
            for r in conn.execute(
                select(loc.code, b.lot, b.on_hand)
                .join(locations, loc.id == b.loc_id)
                .where(
                    b.sku_id.in_(world.sku_ids(conn)),
                    loc.covered.is_(True),
                    loc.negative != "allow",
                    b.on_hand < 0,
                )
            )
        ]

    return read


def net_per_sku(world: World) -> Any:
    """Each SKU's on hand summed over every location, virtual ones included: 0 (double entry)."""

    def read(conn: Connection) -> dict[int, int]:
        query = (
            select(balances.c.sku_id, func.sum(balances.c.on_hand))
            .where(balances.c.sku_id.in_(world.sku_ids(conn)))
            .group_by(balances.c.sku_id)
        )
        return {int(s): int(total) for s, total in conn.execute(query)}

    return read


def moved_per_event(event_ids: list[str]) -> Any:
    def read(conn: Connection) -> dict[str, int]:
        query = (
            select(movements.c.event_id, func.sum(movements.c.qty))
            .where(movements.c.event_id.in_(event_ids))
            .group_by(movements.c.event_id)
        )
        return {str(e): int(q) for e, q in conn.execute(query)}

    return read


def event_id(doc: dict[str, Any]) -> str:
    return f"{doc['dev']}:{doc['seq']}"


@given(history=histories(), data=st.data())
@EXAMPLES
def test_any_history_keeps_balances_equal_to_movements_and_refused_bins_at_or_above_zero(
    ledger: Ledger, history: list[Step], data: st.DataObject
) -> None:
    world = World.make(ledger)
    events = events_of(world, history)
    results = [r for batch in split(data, events) for r in ledger.batch(batch)]

    assert [(r.dev, r.seq) for r in results] == [(e["dev"], e["seq"]) for e in events]
    for doc, r in zip(events, results, strict=True):
        event(f"{doc['mode']}: {r.reason or r.status}")  # --hypothesis-show-statistics
    assert {r.status for r in results} <= {"booked", "refused"}
    assert not [r for r in results if r.reason in UNEXPECTED], results
    assert ledger.read(check) == []
    assert ledger.read(below_zero_where_refused(world)) == []
    assert set(ledger.read(net_per_sku(world)).values()) <= {0}
    moved = ledger.read(moved_per_event([event_id(e) for e in events]))
    for doc, result in zip(events, results, strict=True):
        if result.status == "refused":
            assert event_id(doc) not in moved, (doc, result)  # a refusal books nothing
        elif doc["mode"] not in ("count", "count-close"):
            assert moved[event_id(doc)] == doc["qty"], (doc, result)  # exactly what was scanned


@given(history=histories(), data=st.data())
@EXAMPLES
def test_replaying_any_prefix_of_processed_events_in_any_split_changes_nothing(
    ledger: Ledger, history: list[Step], data: st.DataObject
) -> None:
    world = World.make(ledger)
    events = events_of(world, history)
    first = {(r.dev, r.seq): r for batch in split(data, events) for r in ledger.batch(batch)}
    before = ledger.read(state(world))

    prefix = events[: data.draw(st.integers(1, len(events)), label="prefix")]
    again = data.draw(st.permutations(prefix), label="replay order")
    sequential = [r for batch in split(data, again) for r in ledger.batch(batch)]
    concurrent = [r for rs in ledger.race(split(data, list(reversed(again)))) for r in rs]

    for r in sequential + concurrent:
        original = first[(r.dev, r.seq)]
        assert (r.status, r.reason, r.detail) == ("duplicate", original.reason, original.detail)
    assert len(sequential) == len(concurrent) == len(prefix)
    assert ledger.read(state(world)) == before
    assert ledger.read(check) == []


Pick = tuple[int, int, int, bool]  # bin, qty, lot (0 none, 1 L1), receive instead of pick
race_batches = st.lists(
    st.lists(
        st.tuples(
            st.integers(0, len(BINS) - 1),
            st.integers(1, 3),
            st.integers(0, 1),
            st.sampled_from((False, False, False, True)),  # mostly picks, some receipts
        ),
        min_size=1,
        max_size=6,
    ),
    min_size=2,
    max_size=5,
)


@given(
    initial=st.tuples(*(st.integers(0, 5) for _ in BINS), st.integers(0, 3)),
    batches=race_batches,
    data=st.data(),
)
@RACES
def test_concurrent_batches_book_only_stock_that_was_there(
    ledger: Ledger,
    initial: tuple[int, ...],
    batches: list[list[Pick]],
    data: st.DataObject,
) -> None:
    world = World.make(ledger, n_skus=1)
    l1 = initial[-1]  # of the first bin's stock, this many are lot L1
    opening = [
        scan(f"open{world.tag}", i + 1, world.code(0, ""), "receive", code, qty=qty)
        for i, (code, qty) in enumerate(zip(BINS, initial, strict=False))
        if qty
    ]
    if l1:
        opening.append(scan(f"open{world.tag}", 9, world.code(0, "L1"), "receive", BINS[0], qty=l1))
    assert {r.status for r in ledger.batch(opening)} <= {"booked"}

    racing: list[list[dict[str, Any]]] = []
    for b, picks in enumerate(batches):
        dev = f"race{world.tag}-{b}"
        racing.append([
            scan(dev, seq, world.code(0, LOTS[lot]), "receive" if receive else "pick", BINS[bin_],
                 qty=qty)
            for seq, (bin_, qty, lot, receive) in enumerate(picks, start=1)
        ])  # fmt: skip
    for doc in data.draw(st.lists(st.sampled_from([e for b in racing for e in b]), max_size=3)):
        racing[data.draw(st.integers(0, len(racing) - 1))].append(doc)  # a twin elsewhere
    ledger.resent = 0
    results = ledger.race(racing)
    event(f"batches sent again after a 503: {min(ledger.resent, 3)}{'+' * (ledger.resent > 3)}")

    outcomes: dict[str, list[str]] = {}
    booked: Counter[str] = Counter()  # per bin: receipts - picks that were booked
    for docs, rs in zip(racing, results, strict=True):
        for doc, r in zip(docs, rs, strict=True):
            outcomes.setdefault(event_id(doc), []).append(r.status)
            if r.status == "booked":
                booked[doc["loc"]] += doc["qty"] if doc["mode"] == "receive" else -doc["qty"]
    event(f"twins: {sum(len(s) > 1 for s in outcomes.values())}")
    for eid, seen in outcomes.items():
        assert len([s for s in seen if s != "duplicate"]) == 1, (eid, seen)  # booked once

    def on_hand(conn: Connection) -> dict[str, int]:
        return {
            code: sum(
                int(v)
                for v in conn.execute(
                    select(balances.c.on_hand)
                    .join(locations, locations.c.id == balances.c.loc_id)
                    .where(balances.c.sku_id.in_(world.sku_ids(conn)), locations.c.code == code)
                ).scalars()
            )
            for code in BINS
        }

    start = dict(zip(BINS, initial, strict=False))
    start[BINS[0]] += l1
    final = ledger.read(on_hand)
    assert final == {code: start[code] + booked[code] for code in BINS}
    assert all(final[code] >= 0 for code in REFUSE_BINS), final
    assert ledger.read(below_zero_where_refused(world)) == []
    assert ledger.read(check) == []
