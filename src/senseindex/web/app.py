"""The workbench application (Starlette): pages, a JSON API over the same facade calls, the guards.

Safety, in one place:

* requests name an index by its name in this server; paths come from the command line only;
* the Host header must be a loopback name (no DNS rebinding) unless the server was started for
  other hosts on purpose;
* a write is a POST that carries the page's CSRF token in `X-CSRF-Token` and, when the browser
  says where it comes from (Origin, Referer, Sec-Fetch-Site), comes from this origin: else 403;
* bodies are capped (413), query text, k and label lengths too (400);
* every response carries a Content-Security-Policy without inline script or style; templates
  autoescape; the JavaScript writes corpus text with textContent only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from senseindex.errors import IndexLockedError, SenseIndexError

from . import views
from .lanes import IndexHandle
from .openapi import openapi_spec
from .views import BadRequest, Params, SearchArgs, SensesArgs

MAX_BODY = 1 << 20  # JSON bodies
MAX_UPLOAD = 32 << 20  # an uploaded review file
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
UPLOAD_PATHS = ("/api/labels/import",)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
HERE = Path(__file__).parent

ENV = Environment(loader=PackageLoader("senseindex", "web/templates"), autoescape=True, trim_blocks=True,
                  lstrip_blocks=True)
ENV.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else n


def link(path: str, **params: Any) -> str:
    """A URL of this app with its query string (None and empty values left out)."""
    query = {k: v for k, v in params.items() if v is not None and v != "" and v is not False}
    return path + ("?" + urlencode(query, doseq=True) if query else "")


ENV.globals["link"] = link


class UnknownIndex(Exception):
    pass


# --- the guard -----------------------------------------------------------------------------
class TooLarge(Exception):
    pass


class Guard:
    """ASGI middleware: host check, same-origin + CSRF token for writes, body caps, security headers."""

    def __init__(self, app, *, token: str, hosts: Iterable[str] | None, max_body: int = MAX_BODY,
                 max_upload: int = MAX_UPLOAD) -> None:
        self.app = app
        self.token = token
        self.hosts = None if hosts is None else {h.lower() for h in hosts}
        self.max_body, self.max_upload = max_body, max_upload

    @staticmethod
    def _host_name(host: str) -> str:
        host = host.strip().lower()
        if host.startswith("["):
            return host[: host.find("]") + 1] if "]" in host else host
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    async def _refuse(self, send, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _write_refusal(self, scope, headers: Headers) -> str | None:
        """Why a state-changing request is refused, or None."""
        host = headers.get("host", "")
        own = f"{scope.get('scheme', 'http')}://{host}".lower()
        origin = headers.get("origin")
        if origin is not None and origin.lower() != own:
            return f"cross-origin request refused (Origin {origin})"
        referer = headers.get("referer")
        if origin is None and referer:
            parts = urlsplit(referer)
            if f"{parts.scheme}://{parts.netloc}".lower() != own:
                return "cross-origin request refused (Referer)"
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return f"cross-site request refused (Sec-Fetch-Site {site})"
        if not secrets.compare_digest(headers.get("x-csrf-token", ""), self.token):
            return "missing or wrong CSRF token (send the page's token in X-CSRF-Token; GET /api/csrf gives it)"
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if self.hosts is not None and self._host_name(headers.get("host", "")) not in self.hosts:
            return await self._refuse(send, 400, "unknown Host header (this server answers to 127.0.0.1 and localhost)")
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            why = self._write_refusal(scope, headers)
            if why:
                return await self._refuse(send, 403, why)
        limit = self.max_upload if scope["path"] in UPLOAD_PATHS else self.max_body
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            return await self._refuse(send, 400, "bad Content-Length")
        if length > limit:
            return await self._refuse(send, 413, f"request body over {limit:,} bytes")
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge
            return message

        async def secured_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                h = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    h.setdefault(k, v)
                if scope["path"].startswith("/api/") or scope["path"].startswith("/export/"):
                    h.setdefault("cache-control", "no-store")
            await send(message)

        try:
            await self.app(scope, counted_receive, secured_send)
        except TooLarge:
            if not started:
                await self._refuse(send, 413, f"request body over {limit:,} bytes")


# --- helpers ---------------------------------------------------------------------------------
def _handle(request: Request, name: str | None = None) -> IndexHandle:
    handles: dict[str, IndexHandle] = request.app.state.handles
    name = name if name is not None else request.query_params.get("index")
    if not name:
        return next(iter(handles.values()))
    if name not in handles:
        raise UnknownIndex(f"no index named {name[:100]!r} in this server (serving: {', '.join(handles)})")
    return handles[name]


async def _wait(future):
    return await asyncio.wrap_future(future)


def _status(exc: Exception) -> int:
    if isinstance(exc, BadRequest):
        return exc.status
    if isinstance(exc, UnknownIndex):
        return 404
    if isinstance(exc, IndexLockedError):
        return 409
    return 400


def _api(fn):
    """JSON errors: 400 for bad input, 404 for an unknown index, 409 while another process writes."""

    async def wrapper(request: Request):
        try:
            return await fn(request)
        except (BadRequest, UnknownIndex, SenseIndexError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=_status(exc))

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _render(request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
    state = request.app.state
    handles: dict[str, IndexHandle] = state.handles
    current = ctx.pop("handle", None)
    base = {"indexes": list(handles), "index": current.name if current else None, "read_only": state.read_only,
            "csrf": state.token, "several": len(handles) > 1, "nav": template.split(".")[0]}
    return HTMLResponse(ENV.get_template(template).render(**base, **ctx), status_code=status)


def _page(template: str):
    """HTML errors: the page again with the message (same status codes as the API)."""

    def wrap(fn):
        async def wrapper(request: Request):
            try:
                return await fn(request)
            except (BadRequest, UnknownIndex, SenseIndexError) as exc:
                try:
                    handle = _handle(request)
                except UnknownIndex:
                    handle = next(iter(request.app.state.handles.values()))
                params = dict(request.query_params)
                return _render(request, template, _status(exc), handle=handle, error=str(exc), params=params,
                               **_empty(template, request))

        wrapper.__name__ = fn.__name__
        return wrapper

    return wrap


def _empty(template: str, request: Request) -> dict:
    """What a page shows around an error message: the user's own input again."""
    if template == "explain.html":
        return {"sentences": "\n".join(request.query_params.getlist("s")) or "\n".join(views.DEFAULT_SENTENCES)}
    if template == "api.html":
        return {"spec": openapi_spec()}
    return {}


def _filename(stem: str, ext: str) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "senseindex")[:80] + "." + ext


def _export_format(request: Request) -> str:
    fmt = request.path_params["fmt"]
    if fmt not in EXPORT_FORMATS:
        raise BadRequest(f"export as {', '.join(EXPORT_FORMATS)}", 404)
    return fmt


def _download(text: str, media: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), media_type=media,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


# --- pages ------------------------------------------------------------------------------------
@_page("search.html")
async def search_page(request: Request):
    handle = _handle(request)
    p = Params(request.query_params)
    params = dict(request.query_params)
    if not p.text("q") and not p.text("cql"):
        return _render(request, "search.html", handle=handle, params=params)
    args = SearchArgs.parse(p)
    sort = p.choice("sort", views.SORTS, "score")
    per = p.int("per", 50, 1, max(views.PER_PAGE))
    conc, static = await _wait(views.search(handle, args))
    rows = views.concordance(conc.hits, sort)
    shown, page, pages = views.page_of(rows, p.int("page", 1, 1, 10**6), per)
    static_shown = None
    if static is not None:
        static_shown = views.page_of(views.concordance(static, sort), page, per)[0]
    target = conc.target
    senses, wordnet = await _wait(handle.model.submit(lambda si: (
        views.hit_senses(si, [r["occurrence_id"] for r in shown]),
        views.wordnet_list(si, target.lemma if target else None, conc.pos_filter or (target and target.pos_class)))))
    for r in shown:
        r["wordnet"] = senses.get(r["occurrence_id"])
    return _render(request, "search.html", handle=handle, params=params, args=args, target=conc.target, conc=conc,
                   rows=shown, static_rows=static_shown, page=page, pages=pages, per=per, sort=sort, wordnet=wordnet,
                   first=(page - 1) * per + 1 if shown else 0, last=(page - 1) * per + len(shown),
                   labels=conc.labels, docs=[(d, Path(d).name) for d in conc.docs], per_choices=views.PER_PAGE,
                   sorts=views.SORTS, sort_names=views.SORT_NAMES, pos_names=POS_NAMES)


POS_NAMES = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}


@_page("senses.html")
async def senses_page(request: Request):
    handle = _handle(request)
    p = Params(request.query_params)
    params = dict(request.query_params)
    if not p.text("word", max_len=100):
        return _render(request, "senses.html", handle=handle, params=params)
    args = SensesArgs.parse(p)
    lines = p.int("lines", 200, 1, views.MAX_LINES)
    data = await _wait(handle.data.submit(lambda si: views.senses_view(si, handle, args, lines)))
    return _render(request, "senses.html", handle=handle, params=params, args=args, lines=lines, **data)


@_page("review.html")
async def review_page(request: Request):
    """Active review of one word: the next batch of questions, answered from the keyboard by review.js."""
    handle = _handle(request)
    p = Params(request.query_params)
    params = dict(request.query_params)
    word = (p.text("word", max_len=100) or "").strip()
    n = p.int("n", views.REVIEW_N, 1, views.MAX_REVIEW_N)
    if not word:
        return _render(request, "review.html", handle=handle, params=params, n=n)
    data = await _wait(handle.data.submit(lambda si: views.review_view(si, word, n)))
    return _render(request, "review.html", handle=handle, params=params, word=word, n=n, **data)


@_page("explain.html")
async def explain_page(request: Request):
    handle = _handle(request)
    p = Params(request.query_params)
    given = request.query_params.getlist("s")
    params = dict(request.query_params)
    if not given:
        return _render(request, "explain.html", handle=handle, params=params,
                       sentences="\n".join(views.DEFAULT_SENTENCES))
    sentences = views.explain_sentences(given)
    neighbours = p.int("neighbours", 8, 0, 50)
    result = await _wait(handle.model.submit(lambda si: si.explain(sentences, neighbours)))
    return _render(request, "explain.html", handle=handle, params=params, sentences="\n".join(sentences),
                   result=result, contextual=views.heatmap(result["contextual_cosine"]),
                   static=views.heatmap(result["static_cosine"]))


@_page("info.html")
async def info_page(request: Request):
    handle = _handle(request)
    info = await _wait(handle.data.submit(_info))
    return _render(request, "info.html", handle=handle, params={}, info=info)


@_page("api.html")
async def api_page(request: Request):
    return _render(request, "api.html", handle=_handle(request), params={}, spec=openapi_spec())


def _info(si) -> dict:
    for attempt in range(3):  # a writer may replace a file while its size is read
        try:
            return si.info()
        except OSError:
            if attempt == 2:
                raise
    raise AssertionError


@_page("search.html")
async def export_search(request: Request):
    handle = _handle(request)
    fmt = _export_format(request)
    p = Params(request.query_params)
    args = SearchArgs.parse(p)
    sort = p.choice("sort", views.SORTS, "score")
    conc, static = await _wait(views.search(handle, args))
    target = conc.target
    rows = views.concordance(conc.hits, sort)
    out = views.search_rows(rows, "contextual" if static is not None else None)
    static_rows = views.concordance(static, sort) if static is not None else []
    out += views.search_rows(static_rows, "static")
    name = _filename(f"{target.lemma if target else 'cql'}-search", fmt)
    if fmt == "html":
        page = ENV.get_template("export_search.html").render(args=args, target=target, rows=rows,
                                                              static_rows=static_rows, index=handle.name)
        return _download(page, "text/html; charset=utf-8", name)
    from senseindex.output.rows import rows_text

    columns = (["method"] if static is not None else []) + views.HIT_COLUMNS
    if fmt == "csv":
        return _download("\ufeff" + rows_text(out, "csv", columns), "text/csv; charset=utf-8", name)
    return _download(rows_text(out, "nl", columns), "application/x-ndjson; charset=utf-8", name)


@_page("senses.html")
async def export_senses(request: Request):
    handle = _handle(request)
    fmt = _export_format(request)
    args = SensesArgs.parse(Params(request.query_params))
    text, media = await _wait(handle.data.submit(lambda si: views.review_export(si, handle, args, fmt)))
    return _download(text, media, _filename(f"{args.word}-senses", fmt))


# --- API ------------------------------------------------------------------------------------------
@_api
async def api_indexes(request: Request):
    """The indexes this server serves, by name."""
    return JSONResponse({"indexes": list(request.app.state.handles), "read_only": request.app.state.read_only})


@_api
async def api_csrf(request: Request):
    return JSONResponse({"csrf_token": request.app.state.token})


@_api
async def api_info(request: Request):
    handle = _handle(request)
    word = Params(request.query_params).text("word", max_len=100)
    info = await _wait(handle.data.submit(lambda si: si.info(word) if word else _info(si)))
    return JSONResponse({"name": handle.name, **info})


@_api
async def api_search(request: Request):
    handle = _handle(request)
    args = SearchArgs.parse(Params(request.query_params), default_k=10)
    conc, static = await _wait(views.search(handle, args))
    out: dict[str, Any] = {"index": handle.name, "target": dict(conc.target.__dict__) if conc.target else None,
                           "counts": conc.counts()}
    if static is not None:
        out |= {"contextual": [h.to_dict() for h in conc.hits], "static": [h.to_dict() for h in static]}
    else:
        out["hits"] = [h.to_dict() for h in conc.hits]
    return JSONResponse(out)


@_api
async def api_collocates(request: Request):
    """Window collocates per sense with logDice (senseindex collocates --json); `frequency` adds
    the word's counts per million (senseindex freq --json)."""
    handle = _handle(request)
    p = Params(request.query_params)
    word = p.text("word", required=True, max_len=100)
    by = p.choice("by", ("cluster", "label"), "cluster")
    item = p.choice("item", ("lemma", "word"), "lemma")
    window, top = p.int("window", 5, 1, 50), p.int("top", 15, 1, 1000)
    min_count = p.int("min_count", 1, 1, 10**6)

    def run(si):
        return {**si.collocates(word, by, window, top, min_count, item),
                "frequency": si.frequency(word, clusters=by == "cluster")}

    return JSONResponse(await _wait(handle.data.submit(run)))


@_api
async def api_words(request: Request):
    """The words of a sentence, each with its lemma and how many occurrences the index holds."""
    handle = _handle(request)
    q = Params(request.query_params).text("q", required=True)
    return JSONResponse({"words": await _wait(handle.data.submit(lambda si: si.indexed_words(q)))})


@_api
async def api_context(request: Request):
    """A sentence with its neighbours in its document (the search page's line view)."""
    handle = _handle(request)
    p = Params(request.query_params)
    sid, around = p.int("sentence_id", None, 1, 2**62), p.int("around", 2, 0, 10)
    if sid is None:
        raise BadRequest("missing parameter 'sentence_id'")
    return JSONResponse(await _wait(handle.data.submit(lambda si: si.context(sid, around))))


@_api
async def api_senses(request: Request):
    handle = _handle(request)
    p = Params(request.query_params)
    args = SensesArgs.parse(p)
    rows = p.flag("rows")
    data = await _wait(handle.data.submit(lambda si: views.senses_json(si, handle, args, rows)))
    return JSONResponse({"index_name": handle.name, **data})


@_api
async def api_plot(request: Request):
    handle = _handle(request)
    args = SensesArgs.parse(Params(request.query_params))

    def run(si):
        rep = views.report(si, handle, args)
        return {"lemma": rep.lemma, **views.cached_plot(si, handle, args, rep)}

    data = await _wait(handle.data.submit(run))
    data["mean"] = list(data["mean"])
    return JSONResponse(data)


@_api
async def api_labels(request: Request):
    handle = _handle(request)
    word = Params(request.query_params).text("word", required=True, max_len=100)
    return JSONResponse(await _wait(handle.data.submit(lambda si: si.label_summary(word))))


@_api
async def api_labels_export(request: Request):
    handle = _handle(request)
    p = Params(request.query_params)
    word = p.text("word", max_len=100)
    sources = tuple(request.query_params.getlist("source")) or ("review", "gold", "predicted")
    return JSONResponse(await _wait(handle.data.submit(lambda si: si.labels(sources, word))))


@_api
async def api_review(request: Request):
    """The next occurrences of a word to label (active review), as `senseindex review --json`."""
    handle = _handle(request)
    p = Params(request.query_params)
    word, n = p.text("word", required=True, max_len=100), p.int("n", 10, 1, 1000)
    return JSONResponse(await _wait(handle.data.submit(lambda si: si.review(word, n).to_dict())))


@_api
async def api_review_status(request: Request):
    handle = _handle(request)
    word = Params(request.query_params).text("word", required=True, max_len=100)
    return JSONResponse(await _wait(handle.data.submit(lambda si: si.review_status(word))))


async def _json_body(request: Request) -> dict:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise BadRequest("send JSON (Content-Type: application/json)", 415)
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _writable(request: Request) -> None:
    if request.app.state.read_only:
        raise BadRequest("this server is read-only (started with --read-only)", 403)


@_api
async def api_labels_write(request: Request):
    _writable(request)
    body = await _json_body(request)
    name = body.get("index", request.query_params.get("index"))
    handle = _handle(request, name if isinstance(name, str) else None)
    word = body.get("word") if isinstance(body.get("word"), str) else None

    def run(si):
        result = views.write_labels(si, handle, body)
        if word:
            result["summary"] = si.label_summary(word)
        return result

    return JSONResponse(await _wait(handle.data.submit(run)))


def _id_map(value, what: str, values: str, parse) -> dict:
    """A JSON object of occurrence ids to values, checked: 1 to 1,000 entries, ids numbers, each
    value through `parse` (which raises BadRequest for a bad one)."""
    if not isinstance(value, dict) or not value or len(value) > 1000:
        raise BadRequest(f"{what} must map 1 to 1,000 occurrence ids to {values}")
    try:
        return {int(k): parse(v) for k, v in value.items()}
    except ValueError:
        raise BadRequest(f"{what} must map occurrence ids (numbers) to {values}") from None


@_api
async def api_review_answer(request: Request):
    """Answers to review questions: {"word", "answers": {occurrence id: sense name or "skip"}}."""
    _writable(request)
    body = await _json_body(request)
    handle = _handle(request, body.get("index") if isinstance(body.get("index"), str) else None)
    word, answers = body.get("word"), body.get("answers")
    if not isinstance(word, str) or not word.strip():
        raise BadRequest("give the word")
    if "undo" in body:  # {"word", "undo": {occurrence id: review label before, or null}}: the `before` of an answer
        before = _id_map(body["undo"], "undo", "a label or null", lambda v: None if v is None else views.label_text(v))

        def revert(si):
            result = si.undo_review(word, before)
            handle.labels_changed()
            return result

        return JSONResponse(await _wait(handle.data.submit(revert)))
    parsed = _id_map(answers, "answers", 'a sense name or "skip"', views.label_text)

    def run(si):
        result = si.answer_review(word, parsed)
        handle.labels_changed()
        return result

    return JSONResponse(await _wait(handle.data.submit(run)))


@_api
async def api_labels_import(request: Request):
    _writable(request)
    handle = _handle(request)
    async with request.form(max_files=1, max_fields=10, max_part_size=MAX_UPLOAD) as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("send the review file as the form field `file`")
        data = await upload.read()
        filename = upload.filename or "upload.csv"
    return JSONResponse(await _wait(handle.data.submit(
        lambda si: views.import_upload(si, handle, filename, data))))


@_api
async def api_explain(request: Request):
    handle = _handle(request)
    p = Params(request.query_params)
    sentences = views.explain_sentences(request.query_params.getlist("s"))
    neighbours = p.int("neighbours", 8, 0, 50)
    return JSONResponse(await _wait(handle.model.submit(lambda si: si.explain(sentences, neighbours))))


@_page("over.html")
async def over_page(request: Request):
    """Senses over metadata: the chart (each point links to its lines), the table, the lines."""
    handle = _handle(request)
    p = Params(request.query_params)
    params = dict(request.query_params)
    fields = await _wait(handle.data.submit(lambda si: si.metadata_fields()))
    if not p.text("word", max_len=100) or not p.text("by", max_len=100):
        return _render(request, "over.html", handle=handle, params=params, fields=fields)
    args = views.OverArgs.parse(p)
    value, sense = p.text("value", max_len=200), p.text("sense", max_len=views.MAX_LABEL)
    data = await _wait(handle.data.submit(lambda si: args.run(si, (value, sense) if value and sense else None)))

    def href(bin_label: str, sense_name: str) -> str:
        return link("/over", index=handle.name, word=args.word, by=args.by, bin=p.text("bin"), of=p.text("of"),
                    where=args.where, k=p.text("k"), value=bin_label, sense=sense_name) + "#lines"

    return _render(request, "over.html", handle=handle, params=params, fields=fields, data=data,
                   chart=views.over_chart(data, href), value=value, sense=sense,
                   search=lambda line: link("/search", index=handle.name, q=_marked(line)))


def _marked(line: dict) -> str:
    """A line's sentence with its occurrence marked, as a search query ("the [mouse] ran")."""
    s, e = line["start"], line["end"]
    return f"{line['sentence'][:s]}[{line['sentence'][s:e]}]{line['sentence'][e:]}"


@_api
async def api_over(request: Request):
    handle = _handle(request)
    args = views.OverArgs.parse(Params(request.query_params))
    return JSONResponse(await _wait(handle.data.submit(args.run)))


@_api
async def api_over_lines(request: Request):
    handle = _handle(request)
    p = Params(request.query_params)
    args = views.OverArgs.parse(p)
    at = (p.text("value", required=True, max_len=200), p.text("sense", required=True, max_len=views.MAX_LABEL))
    data = await _wait(handle.data.submit(lambda si: args.run(si, at)))
    return JSONResponse({"lemma": data["lemma"], "bin": at[0], "sense": at[1], "count": data["lines_total"],
                         "lines": data["lines"]})


async def api_openapi(_request: Request):
    return JSONResponse(openapi_spec())


async def home(request: Request):
    return RedirectResponse(link("/search", index=request.query_params.get("index")), status_code=303)


ROUTES = [
    Route("/", home),
    Route("/search", search_page),
    Route("/senses", senses_page),
    Route("/review", review_page),
    Route("/explain", explain_page),
    Route("/info", info_page),
    Route("/over", over_page),
    Route("/api", api_page),
    Route("/export/search.{fmt:str}", export_search),
    Route("/export/senses.{fmt:str}", export_senses),
    Route("/api/openapi.json", api_openapi),
    Route("/api/indexes", api_indexes),
    Route("/api/csrf", api_csrf),
    Route("/api/info", api_info),
    Route("/api/search", api_search),
    Route("/api/senses", api_senses),
    Route("/api/words", api_words),
    Route("/api/collocates", api_collocates),
    Route("/api/context", api_context),
    Route("/api/senses/plot", api_plot),
    Route("/api/over", api_over),
    Route("/api/over/lines", api_over_lines),
    Route("/api/labels", api_labels, methods=["GET"]),
    Route("/api/labels", api_labels_write, methods=["POST"]),
    Route("/api/labels/export", api_labels_export),
    Route("/api/labels/import", api_labels_import, methods=["POST"]),
    Route("/api/explain", api_explain),
    Route("/api/review", api_review, methods=["GET"]),
    Route("/api/review", api_review_answer, methods=["POST"]),
    Route("/api/review/status", api_review_status),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]
EXPORT_FORMATS = ("csv", "jsonl", "html")


def index_names(paths: Sequence[str | Path] | Mapping[str, str | Path]) -> dict[str, Path]:
    """A short URL name per index (its folder name, made unique), each opened once to check it."""
    from senseindex.sense_index import SenseIndex

    items = list(paths.items()) if isinstance(paths, Mapping) else [(None, p) for p in paths]
    if not items:
        raise SenseIndexError("give at least one index to serve")
    out: dict[str, Path] = {}
    for name, p in items:
        path = SenseIndex.open(p).path  # a clear error now for a missing or foreign folder
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", name or Path(path).resolve().name).strip("-") or "index"
        name, n = base, 2
        while name in out:
            name, n = f"{base}-{n}", n + 1
        out[name] = path
    return out


def create_app(indexes: Sequence[str | Path] | Mapping[str, str | Path], *, read_only: bool = False,
               encoder=None, device: str = "auto", precision: str = "auto", runtime: str = "auto",
               hosts: Iterable[str] | None = LOOPBACK_HOSTS, cache: int = 128, max_body: int = MAX_BODY,
               max_upload: int = MAX_UPLOAD, token: str | None = None, warm: bool = True) -> Starlette:
    """The workbench over one or more indexes. `encoder` (tests) replaces the index's own model;
    `hosts=None` accepts any Host header (only for a server deliberately reachable from elsewhere)."""
    names = index_names(indexes)
    handles: dict[str, IndexHandle] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        for name, path in names.items():
            handles[name] = IndexHandle(name, path, encoder=encoder, device=device, precision=precision,
                                        cache=cache, runtime=runtime)
        if warm:  # load the model and read the index in the background; the first search is then quick
            for h in handles.values():
                h.data.submit(_info)
                h.model.submit(lambda si: si.encoder)
        try:
            yield
        finally:
            for h in handles.values():
                h.close()

    routes = [r for r in ROUTES]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.handles = handles
    app.state.names = names
    app.state.read_only = read_only
    app.state.token = token or secrets.token_urlsafe(32)
    app.add_middleware(Guard, token=app.state.token, hosts=hosts, max_body=max_body, max_upload=max_upload)
    return app


def check_host(host: str, allow_remote: bool) -> bool:
    """True when HOST is a loopback address; anything else needs allow_remote (and gets a warning)."""
    loopback = host in LOOPBACK_HOSTS or host.startswith("127.")
    if not loopback and not allow_remote:
        raise SenseIndexError(f"--host {host} would let other machines read the corpus and write labels; "
                              "add --allow-remote if that is what you want (and consider --read-only)")
    return loopback


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity (which `taskset`, a container or a batch
    scheduler may narrow), else every core."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def apply_threads(threads: int | str | None) -> int | None:
    """Set the model's CPU threads for encoders loaded from now on (`serve --threads`) and return
    the count: a number for every runtime; "auto" one per core this process may use for OpenVINO and
    ONNX Runtime, and one for torch (`set_torch_threads`); None leaves each runtime its default.
    Importing the setters imports neither torch nor an exported runtime."""
    from senseindex.encoding.encoder import set_torch_threads
    from senseindex.encoding.runtimes import set_threads

    if not threads:
        return None
    count = available_cores() if threads == "auto" else int(threads)
    set_threads(count)
    set_torch_threads(1 if threads == "auto" else None)
    return count


def serve(indexes: Sequence[str], host: str = "127.0.0.1", port: int = 8000, read_only: bool = False,
          allow_remote: bool = False, device: str = "auto", precision: str = "auto", threads: int | str | None = "auto",
          echo=print, runtime: str = "auto") -> None:
    """Run the workbench with uvicorn until Ctrl-C; `echo(message)` tells the user where it is.

    `threads` sets the model's CPU threads for this process (`apply_threads`). "auto" is the
    default since OpenVINO became the runtime: on the shared 2-core machine two OpenVINO threads gave
    8 concurrent clients a p50 of 68 ms against 98-102 ms with one, and were no slower beside a
    busy process (107 against 110 ms); torch keeps one thread under "auto", because two torch
    threads beside a busy process took 1.9 s against 0.15 s (docs/benchmarks/26-runtimes.md)."""
    import uvicorn

    loopback = check_host(host, allow_remote)
    apply_threads(threads)
    app = create_app(indexes, read_only=read_only, device=device, precision=precision, runtime=runtime,
                     hosts=LOOPBACK_HOSTS if loopback else None)
    if not loopback:
        echo(f"warning: serving on {host}: anyone who can reach this address can read the corpus"
             + ("" if read_only else " and change its labels"))
    shown = f"[{host}]" if ":" in host else host
    names = ", ".join(app.state.names)
    echo(f"senseindex workbench: http://{shown}:{port}/ ({names}{', read-only' if read_only else ''}); "
         "Ctrl-C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, workers=1)
