"""Ledger ingest: scan events booked per second, in batches, beside plain executemany.

For each backend (SQLite file, PostgreSQL schema) the ledger app runs in process (no
dispatcher); batches of receive/pick scans go to `POST /v1/scan-batches` the way a gateway
sends them. The reference, measured in the same run on the same database, is an executemany of
as many rows into the `movements` table in one transaction: the floor cost of writing the rows
at all. Prints events/s for both and their ratio.

    python -m bench.ledger_ingest [--events 5000] [--batch 1000] [--backend sqlite|postgresql|both]

PostgreSQL comes from STOCKWIRE_TEST_PG_URL (`tools/with-postgres.sh python -m bench...`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, make_url

from server.app import create_app
from server.db.schema import locations, movements, skus
from server.settings import Settings

ADMIN = "bench-admin-token-0123456789"
GATEWAY = "bench-gateway-token-0123456789"
SKUS = [(f"BEN-{i:03d}", f"0{5901234000000 + i * 10}") for i in range(20)]
BINS = ["WH1-A-01", "WH1-A-02", "WH1-B-01", "WH1-B-02"]


def _gtin14(body13: str) -> str:
    """A GTIN-14 with its check digit from the 13 digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return body13 + str((10 - total % 10) % 10)


CODES = [(sku, _gtin14(digits[:13])) for sku, digits in SKUS]


def _events(dev: str, start: int, count: int) -> list[dict[str, Any]]:
    """Receives, with every fourth scan a pick of what was received just before."""
    out = []
    for n in range(start, start + count):
        sku_index, loc = n % len(CODES), BINS[n % len(BINS)]
        mode = "pick" if n % 4 == 3 else "receive"
        if mode == "pick":
            sku_index, loc = (n - 1) % len(CODES), BINS[(n - 1) % len(BINS)]
        out.append(
            {
                "v": 1,
                "dev": dev,
                "seq": n,
                "boot": 1,
                "ts": 1796312366000 + n,
                "code": CODES[sku_index][1],
                "sym": "",
                "mode": mode,
                "qty": 1,
                "loc": loc,
                "ref": "",
                "site": "site1",
                "gw_ts": 1796312366100 + n,
            }
        )
    return out


def _seed(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    for sku, gtin in CODES:
        body = {"sku": sku, "name": sku, "gtin": gtin, "unit_cost": "1.00"}
        client.post("/v1/skus", json=body, headers=headers).raise_for_status()
    for code in BINS:
        client.post("/v1/locations", json={"code": code}, headers=headers).raise_for_status()


def _reference_rows(conn: Connection, count: int) -> list[dict[str, Any]]:
    sku_ids = [r.id for r in conn.execute(select(skus.c.id))]
    loc_ids = [r.id for r in conn.execute(select(locations.c.id))]
    now = datetime.now(UTC)
    return [
        {
            "sku_id": sku_ids[n % len(sku_ids)],
            "from_loc_id": loc_ids[0],
            "to_loc_id": loc_ids[-1],
            "qty": 1,
            "kind": "reference",
            "ref": "",
            "event_id": f"ref:{n}",
            "booked_at": now,
            "event_at": now,
        }
        for n in range(count)
    ]


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(movements), rows)


def run(url: str, events: int, batch: int) -> dict[str, float]:
    settings = Settings(
        db_url=url, admin_token=ADMIN, gateway_tokens={"gw-b": GATEWAY}, dispatcher=False
    )
    app = create_app(settings)
    with TestClient(app) as client:
        _seed(client)
        headers = {"Authorization": f"Bearer {GATEWAY}"}
        latencies, booked, seq = [], 0, 1
        started = time.perf_counter()
        while seq <= events:
            body = {"gateway": "gw-b", "events": _events("bench-1", seq, batch)}
            t0 = time.perf_counter()
            answer = client.post("/v1/scan-batches", json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            answer.raise_for_status()
            booked += sum(r["status"] == "booked" for r in answer.json()["results"])
            seq += batch
        ingest_s = time.perf_counter() - started
        sent = seq - 1
        db = app.state.db
        rows = client.portal.call(db.read, _reference_rows, sent)
        t0 = time.perf_counter()
        for start in range(0, sent, batch):
            client.portal.call(db.write, _insert, rows[start : start + batch])
        reference_s = time.perf_counter() - t0
    return {
        "events": sent,
        "booked": booked,
        "ingest_per_s": sent / ingest_s,
        "batch_p50_ms": statistics.median(latencies) * 1000,
        "reference_per_s": sent / reference_s,
    }


def _pg_schema(base: str) -> tuple[str, str]:
    schema = f"sw_bench_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def _pg(base: str, sql: str) -> None:
    async def go() -> None:
        u = make_url(base)
        conn = await asyncpg.connect(
            host=u.host, port=u.port, user=u.username, password=u.password, database=u.database
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    results: list[tuple[str, dict[str, float]]] = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'ledger.db'}"
            results.append(("sqlite", run(url, args.events, args.batch)))
    if args.backend in ("postgresql", "both"):
        base = os.environ.get("STOCKWIRE_TEST_PG_URL")
        if not base:
            raise SystemExit("set STOCKWIRE_TEST_PG_URL or run via tools/with-postgres.sh")
        schema, url = _pg_schema(base)
        _pg(base, f"CREATE SCHEMA {schema}")
        try:
            results.append(("postgresql", run(url, args.events, args.batch)))
        finally:
            _pg(base, f"DROP SCHEMA {schema} CASCADE")
    print(f"ledger ingest, batches of {args.batch}")
    print(
        f"{'backend':<11} {'events':>7} {'booked':>7} {'ingest/s':>9} {'batch p50':>10} "
        f"{'executemany/s':>14} {'ratio':>6}"
    )
    for name, r in results:
        print(
            f"{name:<11} {r['events']:>7.0f} {r['booked']:>7.0f} {r['ingest_per_s']:>9.0f} "
            f"{r['batch_p50_ms']:>8.0f}ms {r['reference_per_s']:>14.0f} "
            f"{r['ingest_per_s'] / r['reference_per_s']:>6.3f}"
        )


if __name__ == "__main__":
    main()
