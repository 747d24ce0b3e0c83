"""The status page's routes: login and logout, the page, its live updates and the dead-letter
FIX and REPLAY actions, and /metrics.

Every state change is a POST carrying the session's CSRF token (checked before anything
else); the session cookie is HttpOnly and SameSite=Strict. Pages are rendered on the server
(Jinja2, autoescaped); a small inline script swaps in the fragments that `/events` pushes every
second (server-sent events), and without it the page is a plain page to reload. Every answer
carries a Content-Security-Policy that allows only this page's own inline style and script
(by nonce), so nothing is fetched from anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from gateway import metrics
from gateway.model import Scan, classify_scan, now_ms
from gateway.status.auth import Lockout, Session, Sessions, check_password, read_admins
from gateway.status.chart import scans_per_minute_svg
from gateway.status.figures import Figures, FigureSource
from stockwire.wire import WireError, parse_topic

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger(__name__)

COOKIE = "stockwire_session"
FORM_MAX = 64 * 1024
LIVE = ("summary", "scanners", "chart", "dead")  # fragments the events replace


def _age(ms: int | None) -> str:
    if ms is None:
        return "–"
    s = ms // 1000
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _clock(ms: int | None) -> str:
    if ms is None:
        return "–"
    return datetime.fromtimestamp(ms / 1000).strftime("%H:%M:%S")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gateway.status", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["age"] = _age
    env.filters["clock"] = _clock
    return env


def create_app(gw: Gateway, closing: asyncio.Event) -> FastAPI:
    assert gw.config.status is not None
    config = gw.config.status
    env = _environment()
    figures = FigureSource(gw)
    sessions = Sessions(gw.buffer, config.session_minutes)
    lockout = Lockout(config.login_failures, config.lockout_minutes)
    notes: dict[str, str] = {}  # one-shot message per session (after a FIX or REPLAY)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        html = env.get_template(template).render(nonce=nonce, site=gw.config.site,
                                             gateway=gw.config.gateway_id, **context)  # fmt: skip
        response = HTMLResponse(html, status)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def fragments(f: Figures, session: Session) -> dict[str, str]:
        context = {
            "f": f,
            "csrf": session.csrf,
            "chart": Markup(scans_per_minute_svg(f.per_minute)),
        }
        return {name: env.get_template(f"_{name}.html").render(**context) for name in LIVE}

    async def current(request: Request) -> tuple[str | None, Session | None]:
        token = request.cookies.get(COOKIE)
        return token, await sessions.get(token)

    async def form(request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > FORM_MAX:
            raise HTTPException(413, f"the form is larger than {FORM_MAX} bytes")
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def csrf_ok(session: Session | None, fields: dict[str, str]) -> bool:
        given = fields.get("csrf", "")
        return session is not None and hmac.compare_digest(given.encode(), session.csrf.encode())

    def to_login() -> RedirectResponse:
        return RedirectResponse("/login", 303)

    @app.get("/", response_class=HTMLResponse)
    async def status_page(request: Request) -> Response:
        token, session = await current(request)
        if session is None or token is None:
            return to_login()
        f = await figures.snapshot()
        return page("status.html", admin=session.name, csrf=session.csrf,
                    note=notes.pop(token, ""), live=fragments(f, session))  # fmt: skip

    @app.get("/login", response_class=HTMLResponse)
    async def login_page() -> Response:
        return page("login.html")

    @app.post("/login")
    async def login(request: Request) -> Response:
        fields = await form(request)
        name, password = fields.get("name", "").strip(), fields.get("password", "")
        keys = [f"name:{name}", f"addr:{request.client.host if request.client else ''}"]
        wait = lockout.wait(keys)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            return page("login.html", 429, name=name,
                        error=f"Too many failed logins. Try again in {minutes} min.")  # fmt: skip
        try:
            admins = read_admins(config.users_file)
        except ValueError as exc:
            log.error("cannot read the admins file: %s", exc)
            admins = {}
        if not await asyncio.to_thread(check_password, admins, name, password):
            lockout.failed(keys)
            log.warning("status page: failed login for %r from %s", name, keys[1][5:])
            return page("login.html", 401, name=name, error="Wrong name or password.")
        lockout.succeeded(keys)
        token = await sessions.start(name)
        log.info("status page: %s logged in", name)
        response = RedirectResponse("/", 303)
        response.set_cookie(COOKIE, token, max_age=sessions.seconds, httponly=True,
                            samesite="strict", path="/")  # fmt: skip
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        token, session = await current(request)
        if not csrf_ok(session, await form(request)):
            return Response("refused: missing or wrong CSRF token", 403)
        await sessions.end(token)
        response = to_login()
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @app.post("/dead-letters/{dead_id}/{action}")
    async def dead_letter(request: Request, dead_id: int, action: str) -> Response:
        if not 0 < dead_id < 2**63:  # an SQLite integer, or no dead letter at all
            return Response("no such dead letter", 404)
        token, session = await current(request)
        fields = await form(request)
        if token is None or session is None:
            return Response("log in first", 401)
        if not csrf_ok(session, fields):
            return Response("refused: missing or wrong CSRF token", 403)
        if action not in ("fix", "replay", "dismiss"):
            return Response("no such action", 404)
        if action == "dismiss":
            done = await gw.buffer.dismiss_dead_letter(dead_id, session.name)
            notes[token] = (
                f"Dead letter {dead_id} dismissed: kept for the record, no longer open."
                if done
                else f"Dead letter {dead_id} is not open."
            )
            if done:
                log.info("status page: %s dismissed dead letter %d", session.name, dead_id)
            await figures.snapshot(fresh=True)
            return RedirectResponse("/#dead-letters", 303)
        payload = fields.get("payload", "").encode("utf-8")
        if "payload" in fields and not await gw.buffer.fix_dead_letter(dead_id, payload):
            notes[token] = f"Dead letter {dead_id} is not open."
        elif action == "fix":
            saved = "the edit is saved" if "payload" in fields else "no edit was sent"
            notes[token] = f"Dead letter {dead_id}: {saved}."
        else:
            notes[token] = await replay(dead_id, session.name)
        await figures.snapshot(fresh=True)
        return RedirectResponse("/#dead-letters", 303)

    async def replay(dead_id: int, admin: str) -> str:
        rows = await gw.buffer.query(
            "SELECT topic, coalesce(fixed, payload) FROM dead_letters "
            "WHERE id = ? AND resolved_ts IS NULL",
            (dead_id,),
        )
        if not rows:
            return f"Dead letter {dead_id} is not open."
        topic, payload = str(rows[0][0]), bytes(rows[0][1])
        try:
            site, kind, device = parse_topic(topic)
        except WireError:
            site, kind, device = "", "", ""
        if kind != "scan" or site != gw.config.site:
            return f"Dead letter {dead_id}: only a scanner's scan payload can be replayed."
        item = classify_scan(topic, device, payload, now_ms())
        if not isinstance(item, Scan):
            return f"Dead letter {dead_id} is still refused: {item.reason} ({item.detail})."
        why = await gw.buffer.replay_dead_letter(dead_id, item)
        if why:
            return f"Dead letter {dead_id} was not replayed: {why}."
        if gw.forwarder:
            gw.forwarder.wake()
        event = item.event
        log.info("status page: %s replayed dead letter %d as %s:%d",
                 admin, dead_id, event.dev, event.seq)  # fmt: skip
        return f"Dead letter {dead_id} replayed: stored as scan {event.dev}:{event.seq}."

    @app.get("/events")
    async def events(request: Request) -> Response:
        token, session = await current(request)
        if session is None:
            return Response("log in first", 401)

        async def stream() -> AsyncIterator[bytes]:
            last = b""
            quiet_since = time.monotonic()
            while not closing.is_set():
                live = await sessions.get(token)
                if live is None:
                    yield b"event: logout\ndata: {}\n\n"
                    return
                f = await figures.snapshot()
                body = orjson.dumps(fragments(f, live))
                if body != last or time.monotonic() - quiet_since > 15:
                    yield b"data: " + body + b"\n\n"
                    last, quiet_since = body, time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closing.wait(), 1.0)

        return StreamingResponse(
            stream(), media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )  # fmt: skip

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(await figures.snapshot()), media_type=metrics.CONTENT_TYPE)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
