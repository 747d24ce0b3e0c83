"""The forwarder: buffered scans to the ledger in batches, oldest row first.

Owns `POST /v1/scan-batches` (protocol §3): one batch in flight at a time, so each device's
scans reach the ledger in the order they were buffered; rows are marked by row id only after
the ledger answered for them; errors back off exponentially with jitter; 429/503 wait for
Retry-After. After each answer it sends the informational `booked`/`refused` acks.

One event the ledger cannot book (a ledger bug answering HTTP 500 for it) must not stall the
site behind it. 503/429/connection errors are outages and are retried as they are; but after
`split_after` consecutive 500s for the same batch the forwarder bisects: it posts the oldest
half of that batch (still oldest row first, so per-device order holds), and so on down to a
single event. A single event that gets `split_after` more 500s after the ledger has answered
some other batch with 200 in this episode (proof that the ledger is up, not broken for
everything) is marked `refused` locally with reason `ledger error`, kept in the buffer for an
admin, refused to its scanner, and forwarding goes on. If the suspect is the oldest row, the
proof is sought by posting the oldest rows of the other devices (which order cannot forbid);
with no other device waiting, the event is retried until one is.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Sequence

import httpx
import orjson

from gateway.buffer import Buffer, Row
from gateway.committer import Publish, publish_acks
from gateway.config import LedgerConfig
from gateway.model import (
    Acks,
    Answer,
    Backoff,
    escape_text,
    now_ms,
    outcome_acks,
    retry_after,
)
from stockwire.wire import BatchEvent, batch_body, decode_scan

log = logging.getLogger(__name__)


class LedgerError(Exception):
    """The ledger did not answer for a batch; `wait` is how long it asked us to hold off."""

    def __init__(
        self, message: str, wait: float | None = None, status: int | None = None, text: str = ""
    ) -> None:
        super().__init__(message)
        self.wait = wait
        self.status = status  # the HTTP status when the ledger answered one
        self.text = text  # the answer's body, for a `ledger error` refusal's detail


def tls_verify(config: LedgerConfig) -> ssl.SSLContext | bool:
    """How the ledger's certificate is checked: against `ca_file` when set (a private CA),
    else the system's trust store; `verify_tls = false` turns checking off (tests only)."""
    if not config.verify_tls:
        return False
    if config.ca_file:
        return ssl.create_default_context(cafile=config.ca_file)
    return ssl.create_default_context()


def describe(exc: httpx.HTTPError) -> str:
    """An HTTP error for the log and `last_error`; a certificate the gateway does not trust
    is named as such, with the fix."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate of the ledger not trusted ({cause.verify_message or cause}); "
            "set [ledger] ca_file to the CA that signed it"
        )
    return f"{type(exc).__name__}: {exc}"


def to_batch(rows: Sequence[Row], site: str) -> list[BatchEvent]:
    return [BatchEvent(decode_scan(r.payload), site, r.gw_ts) for r in rows]


def answers_for(rows: Sequence[Row], doc: object) -> list[Answer]:
    """Match the ledger's results to our rows (one per event, in order) or raise LedgerError."""
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, list) or len(results) != len(rows):
        raise LedgerError("answer does not hold one result per event")
    answers = []
    for row, res in zip(rows, results, strict=True):
        if not isinstance(res, dict) or res.get("dev") != row.dev or res.get("seq") != row.seq:
            raise LedgerError(f"result {res!r} does not match {row.dev}:{row.seq}")
        status, reason = res.get("status"), str(res.get("reason") or "")
        detail = str(res.get("detail") or "")
        if status == "booked" or (status == "duplicate" and not reason):
            answers.append(Answer(row.id, row.dev, row.seq, "booked"))
        elif status in ("refused", "duplicate"):
            answers.append(
                Answer(row.id, row.dev, row.seq, "refused", reason or "bad event", detail)
            )
        else:
            raise LedgerError(f"unknown status {status!r} for {row.dev}:{row.seq}")
    return answers


class Forwarder:
    def __init__(
        self,
        config: LedgerConfig,
        buffer: Buffer,
        *,
        site: str,
        gateway_id: str,
        publish: Publish,
        local_devices: frozenset[str] = frozenset(),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._buffer = buffer
        self._site = site
        self._gateway = gateway_id
        self._publish = publish
        self._local = local_devices
        self._wake = asyncio.Event()
        self._backoff = Backoff(config.backoff_min_s, config.backoff_max_s)
        self._client = httpx.AsyncClient(
            base_url=config.url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {config.token}",
                "Content-Type": "application/json",
            },
            timeout=config.timeout_s,
            verify=tls_verify(config),
            transport=transport,
        )
        self.batches = 0
        self.forwarded = 0  # rows the ledger answered for (booked or refused), this run
        self.errors = 0
        self.last_error = ""
        self.split_refused = 0  # events refused `ledger error` after bisection
        # told the ledger's answers for local devices (the dock's feedback); never blocks
        self.on_local: Callable[[Acks], None] | None = None
        # bisection state (see the module doc); `_suspect_last` 0 means not bisecting
        self._limit = config.batch_max
        self._suspect_last = 0
        self._healthy = False  # the ledger answered a 200 since this bisection began
        self._fail_ids: tuple[int, ...] = ()
        self._fails = 0  # consecutive 500s for the batch `_fail_ids`

    def wake(self) -> None:
        """New rows were committed."""
        self._wake.set()

    async def close(self) -> None:
        await self._client.aclose()

    async def run(self) -> None:
        while True:
            rows = await self._next_batch()
            try:
                answers = await self._post(rows)
            except LedgerError as exc:
                self.errors += 1
                self.last_error = str(exc)
                delay = exc.wait if exc.wait is not None else self._backoff.next()
                if exc.status == 500 and await self._server_error(rows, exc):
                    continue
                if exc.status != 500:
                    self._fails = 0  # an outage: not evidence against this batch
                log.warning("ledger: %s; retrying %d rows in %.2fs", exc, len(rows), delay)
                await asyncio.sleep(delay)
                continue
            await self._answered(answers)

    async def _answered(self, answers: Sequence[Answer]) -> None:
        if self.last_error:  # the status page shows the error while it lasts, not after
            log.info("ledger answering again (last error: %s)", self.last_error)
            self.last_error = ""
        self._backoff.reset()
        self._fails, self._fail_ids = 0, ()
        if self._suspect_last:
            self._healthy = True
        await self._buffer.mark(answers, now_ms())
        self.batches += 1
        self.forwarded += len(answers)
        self._notify(answers)

    async def _server_error(self, rows: Sequence[Row], exc: LedgerError) -> bool:
        """Count a 500 for `rows`; split or refuse when it keeps coming. True: go on at once."""
        ids = tuple(r.id for r in rows)
        if ids != self._fail_ids:
            self._fail_ids, self._fails = ids, 0
        self._fails += 1
        if self._fails < self._config.split_after:
            return False
        if not self._suspect_last:
            self._suspect_last, self._healthy = rows[-1].id, False
        if len(rows) > 1:
            self._limit = (len(rows) + 1) // 2
            self._fail_ids, self._fails = (), 0
            log.warning(
                "ledger answered HTTP 500 %d times for %d rows; trying the oldest %d alone",
                self._config.split_after, len(rows), self._limit,
            )  # fmt: skip
            return False  # back off, then post the half
        row = rows[0]
        if self._healthy:
            await self._refuse(row, exc)
            return True
        return await self._probe(exclude=row)

    async def _refuse(self, row: Row, exc: LedgerError) -> None:
        detail = f"HTTP {exc.status}: {exc.text}"[:200]
        log.warning(
            "ledger answers HTTP 500 for %s:%s alone while it books other batches; "
            "refusing it locally (`ledger error`), kept in the buffer: %s",
            row.dev, row.seq, escape_text(detail),
        )  # fmt: skip
        answer = Answer(row.id, row.dev, row.seq, "refused", "ledger error", detail)
        await self._buffer.mark([answer], now_ms())
        self.split_refused += 1
        self._end_split()
        self._notify([answer])

    async def _probe(self, exclude: Row) -> bool:
        """Is the ledger up? Post the oldest rows of the other devices (order allows it)."""
        rows = await self._buffer.pending(self._config.batch_max, exclude_dev=exclude.dev)
        if not rows:
            return False
        try:
            answers = await self._post(rows)
        except LedgerError as exc:
            log.warning("ledger: %s (probing with %d rows of other devices)", exc, len(rows))
            return False
        await self._answered(answers)  # resets the count: the suspect must now fail again
        return True

    def _end_split(self) -> None:
        self._suspect_last, self._healthy = 0, False
        self._limit = self._config.batch_max
        self._fails, self._fail_ids = 0, ()

    async def _next_batch(self) -> list[Row]:
        """While bisecting: the oldest `_limit` rows of the suspect batch, at once. Otherwise
        wait for a full batch, or for the oldest pending row to reach `batch_age_ms`."""
        if self._suspect_last:
            rows = await self._buffer.pending(self._limit)
            rows = [r for r in rows if r.id <= self._suspect_last]
            if rows:
                return rows
            self._end_split()  # every suspect row has been answered
        limit, age = self._config.batch_max, self._config.batch_age_ms
        while True:
            self._wake.clear()
            rows = await self._buffer.pending(limit)
            if len(rows) >= limit:
                return rows
            if rows:
                wait_ms = rows[0].gw_ts + age - now_ms()
                if wait_ms <= 0:
                    return rows
                try:
                    await asyncio.wait_for(self._wake.wait(), wait_ms / 1000)
                except TimeoutError:
                    return await self._buffer.pending(limit)
            else:
                await self._wake.wait()

    async def _post(self, rows: Sequence[Row]) -> list[Answer]:
        body = batch_body(self._gateway, to_batch(rows, self._site))
        try:
            response = await self._client.post("/v1/scan-batches", content=body)
        except httpx.HTTPError as exc:
            raise LedgerError(describe(exc)) from exc
        if response.status_code in (429, 503):
            wait = retry_after(response.headers.get("Retry-After"), self._backoff.next())
            raise LedgerError(f"HTTP {response.status_code}", wait)
        if response.status_code != 200:
            raise LedgerError(
                f"HTTP {response.status_code}: {escape_text(response.text[:200])}",
                status=response.status_code,
                text=response.text[:1000],
            )
        try:
            doc = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise LedgerError(f"answer is not JSON: {exc}") from exc
        return answers_for(rows, doc)

    def _notify(self, answers: Sequence[Answer]) -> None:
        acks = outcome_acks(answers)
        for dev in self._local & set(acks.ok):
            log.info("%s booked %s", dev, acks.ok[dev])
        try:
            publish_acks(acks, "booked", self._publish, self._local)
        except Exception:
            log.exception("publishing booked/refused acks failed")
        if self.on_local is not None and self._local:
            try:
                self.on_local(acks)
            except Exception:
                log.exception("the dock's feedback failed")
