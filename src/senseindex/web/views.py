"""What the pages and the API compute, shared by both: request parameters with their limits, the
facade calls each lane runs, the concordance (sort, filter, page), the senses view and exports.

Everything here reaches the index through `SenseIndex` only; requests name an index, never a path.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senseindex.errors import SenseIndexError
from senseindex.output.palette import colour, scaler
from senseindex.senses.concordance import NO_LABEL, Concordance
from senseindex.senses.frequencies import per_million
from senseindex.storage.labels import SOURCES

from .lanes import IndexHandle

MAX_QUERY = 1000  # characters in a query or an explain sentence
MAX_K = 1000
MAX_SENTENCES = 10  # explain
MAX_LABEL = 100  # characters in a sense label
MAX_LINES = 1000  # lines shown per cluster on the senses page
MAX_IDS = 100_000  # occurrence ids in one label write
DEFAULT_K = 50
PER_PAGE = (20, 50, 100, 200)
SORTS = ("score", "node", "left", "left1", "left2", "left3", "right", "right1", "right2", "right3")
SORT_NAMES = {"score": "score", "node": "target", "left": "left context", "left1": "1st left", "left2": "2nd left",
              "left3": "3rd left", "right": "right context", "right1": "1st right", "right2": "2nd right",
              "right3": "3rd right"}
WORDS = re.compile(r"\w+(?:['’-]\w+)*")


class BadRequest(Exception):
    """A request the server refuses with 400 (or `status`), with a message for the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- parameters ---------------------------------------------------------------------
class Params:
    """Typed, bounded access to query parameters (or a JSON body); every bad value is a 400."""

    def __init__(self, source: Mapping[str, Any]) -> None:
        self.source = source

    def _raw(self, name: str):
        value = self.source.get(name)
        return None if value is None or value == "" else value

    def text(self, name: str, default: str | None = None, max_len: int = MAX_QUERY, required: bool = False) -> str | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise BadRequest(f"missing parameter {name!r}")
            return default
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be text")
        if len(value) > max_len:
            raise BadRequest(f"{name} is longer than {max_len:,} characters")
        if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            raise BadRequest(f"{name} holds control characters")
        return value

    def int(self, name: str, default: int | None, lo: int, hi: int) -> int | None:
        value = self._raw(name)
        if value is None:
            return default
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise BadRequest(f"{name} must be a whole number") from None
        if not lo <= n <= hi:
            raise BadRequest(f"{name} must be between {lo:,} and {hi:,}")
        return n

    def flag(self, name: str) -> bool:
        value = self._raw(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true", "yes", "on") if value is not None else False

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self._raw(name) or default
        if value not in choices:
            raise BadRequest(f"{name} must be one of {', '.join(choices)}")
        return value

    def k_auto(self, name: str = "k") -> int | str:
        value = self._raw(name)
        if value is None or value == "auto":
            return "auto"
        return self.int(name, None, 1, 50)


def label_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("a label must be non-empty text")
    value = value.strip()
    if len(value) > MAX_LABEL or any(ord(c) < 32 for c in value):
        raise BadRequest(f"a label is one line of at most {MAX_LABEL} characters")
    return value


# --- search ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchArgs:
    """One concordance query. The filters are part of it: they restrict the candidates before
    ranking and the cap, so each combination is its own (cached) result."""

    q: str | None
    word: str | None = None
    k: int | None = None  # a cap on the lines (None: every occurrence)
    any_word: bool = False
    mode: str = "contextual"  # contextual, static or compare
    any_pos: bool = False
    cql: str | None = None
    label: str | None = None
    doc: str | None = None
    where: str | None = None  # a metadata selection or @subcorpus (SenseIndex.selection)

    @classmethod
    def parse(cls, p: Params, default_k: int | None = None) -> SearchArgs:
        from senseindex.senses.cql import looks_like_cql

        q, cql = p.text("q"), p.text("cql")
        if q and not cql and looks_like_cql(q):  # a CQL query typed into the sentence field
            q, cql = None, q
        if not (q and q.strip()) and not (cql and cql.strip()):
            raise BadRequest("type a sentence and mark the word to search for, like: I have a [mole] on my hip; "
                             "or a CQL query like [lemma=\"mole\" & pos=\"NOUN\"]")
        mode = "compare" if p.flag("compare") else "static" if p.flag("static") else "contextual"
        if cql and mode != "contextual":
            raise BadRequest("the static GloVe view ranks example sentences only: leave out the CQL query")
        where = p.text("where", max_len=1000)
        if where and (mode == "static" or p.flag("any_word")):
            raise BadRequest("a metadata selection (where) restricts the contextual concordance of one lemma only")
        return cls(q if q and q.strip() else None, p.text("word", max_len=100), p.int("k", default_k, 1, MAX_K),
                   p.flag("any_word"), mode, p.flag("any_pos"), cql, p.text("label", max_len=MAX_LABEL),
                   p.text("doc"), where or None)


def search(handle: IndexHandle, a: SearchArgs):
    """Future of (concordance, static hits or None), cached for paging and sorting; the query
    vector is cached too (SenseIndex.query_vector), so a new filter never runs the model again."""
    key = (a, handle.generation)

    def prime(si) -> list:
        if a.mode == "static" or a.q is None or handle.searches.get(key) is not None:
            return []
        t = si.target(a.q, a.word)
        return [(t.text, t.start, t.end)]

    def run(si):
        got = handle.searches.get(key)
        if got is not None:
            return got
        static = None
        if a.mode == "static" or a.any_word:
            target, hits = si.search(a.q, a.k or DEFAULT_K, a.word, a.any_word, static=a.mode == "static",
                                     any_pos=a.any_pos)
            rows = [r["hit"] for r in concordance(hits, "score", a.label, a.doc)]
            conc = Concordance(target, rows, len(hits), len(rows), ranked=True, labels=facets(hits)[0],
                               docs=sorted({h.doc for h in hits}))
        else:
            conc = si.concordance(a.q, cql=a.cql, word=a.word, any_pos=a.any_pos, label=a.label, doc=a.doc,
                                  where=a.where, k=a.k)
            if a.mode == "compare":
                _, static = si.search(a.q, a.k or max(conc.total, 1), a.word, static=True)
                static = [r["hit"] for r in concordance(static, "score", a.label, a.doc)]
        got = (conc, static)
        handle.searches.put(key, got)
        return got

    return handle.model.submit(run, prime)


def kwic(h, width: int = 80) -> dict:
    """One concordance line: left context (cut from the left), target, right context (cut on the right)."""
    text = h.text
    if h.start is None:
        left, word, right = "", "", text
    else:
        left, word, right = text[: h.start], text[h.start : h.end], text[h.end :]
    left, right = " ".join(left.split()), " ".join(right.split())
    if left and h.start is not None and text[h.start - 1 : h.start].isspace():
        left += " "
    if right and h.end is not None and text[h.end : h.end + 1].isspace():
        right = " " + right
    short_left, short_right = clip_left(left, width), clip_right(right, width)
    return {"rank": h.rank, "score": h.score, "score_text": "–" if h.score is None else f"{h.score:.3f}", "left": short_left, "word": word,
            "right": short_right, "sentence": text, "label": h.label, "label_source": h.label_source,
            "doc": h.doc, "doc_name": Path(h.doc).name, "line": h.line, "occurrence_id": h.occurrence_id,
            "sentence_id": h.sentence_id, "hit": h}


def clip_left(text: str, width: int) -> str:
    """The last `width` characters or fewer, cut at a word boundary, with an ellipsis where cut."""
    if len(text) <= width:
        return text
    cut = text[-(width - 1):]
    space = cut.find(" ")
    if 0 <= space < len(cut) - 1 and not text[-width].isspace():
        cut = cut[space + 1:]
    return "…" + cut.lstrip()


def clip_right(text: str, width: int) -> str:
    """The first `width` characters or fewer, cut at a word boundary, with an ellipsis where cut."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space > 0 and not text[width - 1].isspace():
        cut = cut[:space]
    return cut.rstrip() + "…"


def _context_key(text: str, reverse: bool) -> tuple:
    words = WORDS.findall(text.lower())
    return tuple(reversed(words) if reverse else words)


def sort_key(sort: str, row: dict) -> tuple:
    """KWIC sorts: by score; by the target word; by the left (right) context word by word outwards;
    by the n-th word to the left (right) alone, ties by score."""
    h = row["hit"]
    if sort == "node":
        return ((row["word"] or "").lower(), row["rank"])
    side = sort.rstrip("123")
    words = _context_key(h.text[: h.start or 0], True) if side == "left" else _context_key(h.text[h.end or 0:], False)
    if sort[-1].isdigit():
        n = int(sort[-1])
        return ((words[n - 1] if len(words) >= n else "\uffff",), row["rank"])
    return (words, row["rank"])


def concordance(hits, sort: str = "score", label: str | None = None, doc: str | None = None) -> list[dict]:
    """Hits as KWIC lines, sorted by score or context (`label`/`doc`: filters for hit lists that
    were capped before filtering, i.e. the static GloVe view only; a concordance filters first)."""
    rows = [kwic(h) for h in hits]
    if label:
        rows = [r for r in rows if (r["label"] or NO_LABEL) == label]
    if doc:
        rows = [r for r in rows if r["doc"] == doc]
    if sort != "score":
        rows.sort(key=lambda r: sort_key(sort, r))
    return rows


def facets(hits) -> tuple[list[str], list[tuple[str, str]]]:
    """Labels (with NO_LABEL when some hit has none) and documents (path, file name) among the hits."""
    labels = sorted({h.label for h in hits if h.label})
    if any(not h.label for h in hits):
        labels.append(NO_LABEL)
    docs = sorted({h.doc for h in hits})
    return labels, [(d, Path(d).name) for d in docs]


def page_of(rows: list, page: int, per: int) -> tuple[list, int, int]:
    pages = max(1, math.ceil(len(rows) / per))
    page = min(max(1, page), pages)
    return rows[(page - 1) * per : page * per], page, pages


def hit_senses(si, ids: list[int | None]) -> dict[int, dict]:
    """The WordNet sense the dictionary gives each listed hit (SenseIndex.dictionary_senses: one
    matrix product per lemma over stored vectors); {} where the model or WordNet is not there."""
    try:
        return si.dictionary_senses([i for i in ids if i is not None])
    except SenseIndexError:
        return {}


def wordnet_list(si, lemma: str | None, pos: str | None) -> list[dict]:
    """WordNet's senses of the lemma in its part of speech, for the pages' "WordNet senses" lists."""
    return si.wordnet_senses(lemma, pos) if lemma else []


HIT_COLUMNS = ["rank", "score", "text", "word", "lemma", "start", "end", "doc", "line", "sentence_id",
               "occurrence_id", "label", "label_source"]


def search_rows(rows: list[dict], method: str | None = None) -> list[dict]:
    """Rows for export with the CLI's --json field names (plus `method` in a comparison)."""
    out = []
    for r in rows:
        d = r["hit"].to_dict()
        out.append({"method": method, **d} if method else d)
    return out


# --- senses ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SensesArgs:
    word: str
    k: int | str = "auto"
    min_size: int | None = None
    seed: int = 0

    @classmethod
    def parse(cls, p: Params) -> SensesArgs:
        word = p.text("word", required=True, max_len=100).strip()
        if not word or not WORDS.fullmatch(word):
            raise BadRequest("give one word, like mole")
        return cls(word, p.k_auto("k"), p.int("min_size", None, 1, 100_000), p.int("seed", 0, 0, 2**31 - 1))


def report(si, handle: IndexHandle, a: SensesArgs):
    """The word's sense clusters with the dictionary beside them (each cluster's best WordNet
    senses, the new-sense flag, each line's soft distribution), cached: the clustering does not
    depend on labels; the dictionary does only through sense-key labels' supervised vectors, which
    a label written meanwhile changes once the cached report expires (lanes.CACHE_SECONDS)."""
    key = (a.word.lower(), a.k, a.min_size, a.seed)
    got = handle.reports.get(key)
    if got is None:
        got = si.senses(a.word, a.k, a.min_size, a.seed, examples=5)
        handle.reports.put(key, got)
    return got


def cluster_dictionary(rep) -> dict[int, dict]:
    """Per cluster: its best WordNet senses (synset, key, gloss, similarity) and whether it is a
    candidate new sense, from `SenseReport.dictionary` ({} where WordNet lacks the lemma)."""
    return {c["cluster"]: c for c in (rep.dictionary or {}).get("clusters", [])}


def cluster_collocates(si, handle: IndexHandle, a: SensesArgs, rep, top: int = 8) -> tuple[dict, int | None]:
    """(cluster -> its best window collocates by logDice, corpus tokens), cached with the clustering."""
    from senseindex.senses.collocates import collocates
    from senseindex.senses.frequencies import corpus_tokens

    key = ("collocates", a.word.lower(), a.k, a.min_size, a.seed, top)
    got = handle.reports.get(key)
    if got is None:
        groups: dict[int, list[int]] = {}
        for o in rep.rows:
            groups.setdefault(o.cluster, []).append(o.occurrence_id)
        got = ({c: [x.to_dict() for x in cs] for c, cs in collocates(si.store, groups, top=top).items()},
               corpus_tokens(si.store.db))
        handle.reports.put(key, got)
    return got


def stored_labels(si, word: str) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """Per occurrence of WORD: the label in effect (label, source) and the review label alone."""
    effective: dict[int, tuple[str, str]] = {}
    review: dict[int, str] = {}
    rows = sorted(si.labels(SOURCES, word), key=lambda r: (r["occurrence_id"], SOURCES.index(r["source"])))
    for r in rows:
        effective.setdefault(r["occurrence_id"], (r["label"], r["source"]))
        if r["source"] == "review":
            review[r["occurrence_id"]] = r["label"]
    return effective, review


def cluster_names(rep, review: dict[int, str]) -> dict[int, str | None]:
    """A cluster's name is the review label more than half of its occurrences carry (None: not
    named yet), so lines moved in or out one by one never rename it."""
    counts: dict[int, Counter] = {s.cluster: Counter() for s in rep.senses}
    sizes = {s.cluster: s.size for s in rep.senses}
    for o in rep.rows:
        lab = review.get(o.occurrence_id)
        if lab is not None and o.cluster in counts:
            counts[o.cluster][lab] += 1
    names: dict[int, str | None] = {}
    for c, cnt in counts.items():
        best = min(cnt.items(), key=lambda x: (-x[1], x[0])) if cnt else None
        names[c] = best[0] if best and 2 * best[1] > sizes[c] else None
    return names


PLOT_W, PLOT_H, PLOT_PAD = 640, 420, 18


def plot_points(si, rep, seed: int = 0) -> dict:
    """2-D positions (PCA of the occurrence vectors, as `senseindex plot`) scaled to the page's SVG.

    The facade draws plots only to files; this asks the same function SenseIndex.plot uses for the
    points (senseindex.output.plot.plot_data), handing it the facade's store as SenseIndex.plot does."""
    from senseindex.output.plot import plot_data

    data = plot_data(si.store, rep, "cluster", "pca", seed)
    cluster_of = {o.occurrence_id: o.cluster for o in rep.rows}
    pts = data["points"]
    xs = [p["x"] for p in pts] + [data["mean"][0]]
    ys = [p["y"] for p in pts] + [data["mean"][1]]
    at = scaler(xs, ys, PLOT_W, PLOT_H, PLOT_PAD)

    out = []
    for p in pts:
        c = cluster_of.get(p["id"], 0)
        t, a, b = p["text"], p["start"], p["end"]
        cx, cy = at(p["x"], p["y"])
        out.append({"x": cx, "y": cy, "cluster": c, "fill": colour(c), "id": p["id"],
                    "left": t[:a], "word": t[a:b], "right": t[b:]})
    mx, my = at(*data["mean"])
    return {"width": PLOT_W, "height": PLOT_H, "points": out, "mean": (mx, my), "total": data["total"]}


def senses_view(si, handle: IndexHandle, a: SensesArgs, lines: int = 200, plot: bool = True) -> dict:
    """Everything the senses page shows: clusters with sizes, names, lines, labels, plot, documents."""
    rep = report(si, handle, a)
    effective, review = stored_labels(si, a.word)
    base = si.effective_labels(a.word, ("gold", "predicted"))  # what a line shows without its review label
    names = cluster_names(rep, review)
    members: dict[int, list] = {s.cluster: [] for s in rep.senses}
    for o in rep.rows:
        members.setdefault(o.cluster, []).append(o)
    biggest = max((s.size for s in rep.senses), default=1)
    wordnet = cluster_dictionary(rep)
    clusters = []
    for s in rep.senses:
        ms = members.get(s.cluster, [])
        rows = []
        for o in ms[:lines]:
            lab = effective.get(o.occurrence_id)
            rows.append({"id": o.occurrence_id, "cluster": o.cluster, "similarity": f"{o.similarity:.2f}",
                         "left": o.sentence[: o.start], "word": o.sentence[o.start : o.end],
                         "right": o.sentence[o.end :], "doc": o.doc, "doc_name": Path(o.doc).name, "line": o.line,
                         "label": lab[0] if lab else None, "source": lab[1] if lab else None,
                         "review": review.get(o.occurrence_id), "base": base.get(o.occurrence_id, ("", ""))})
        clusters.append({"cluster": s.cluster, "key": s.cluster + 1, "suggested": s.name, "name": names[s.cluster],
                         "size": s.size, "share": f"{s.share:.1%}", "bar": round(200 * s.size / biggest, 1),
                         "words": s.words, "examples": s.examples, "rows": rows,
                         "more": max(0, len(ms) - lines), "fill": colour(s.cluster),
                         "wordnet": wordnet.get(s.cluster)})
    cols, tokens = cluster_collocates(si, handle, a, rep)
    for c in clusters:
        c["collocates"] = cols.get(c["cluster"], [])
        c["per_million"] = per_million(c["size"], tokens)
    per_doc = Counter((o.doc, o.cluster) for o in rep.rows)
    docs = sorted({o.doc for o in rep.rows})
    doc_rows = [{"doc": d, "doc_name": Path(d).name, "counts": [per_doc.get((d, s.cluster), 0) for s in rep.senses],
                 "total": sum(per_doc.get((d, s.cluster), 0) for s in rep.senses)} for d in docs]
    return {"report": rep, "lemma": rep.lemma, "clusters": clusters, "documents": doc_rows, "tokens": tokens,
            "dictionary": rep.dictionary,
            "per_million": per_million(rep.occurrences, tokens),
            "summary": si.label_summary(a.word), "plot": cached_plot(si, handle, a, rep) if plot else None}


def cached_plot(si, handle: IndexHandle, a: SensesArgs, rep) -> dict:
    """The map's points, cached with the clustering (they depend on the vectors only)."""
    key = ("plot", a.word.lower(), a.k, a.min_size, a.seed)
    got = handle.reports.get(key)
    if got is None:
        got = plot_points(si, rep, a.seed)
        handle.reports.put(key, got)
    return got


def senses_json(si, handle: IndexHandle, a: SensesArgs, rows: bool = False) -> dict:
    """The CLI's `senses --json`, plus cluster names from review labels and counts per document."""
    rep = report(si, handle, a)
    effective, review = stored_labels(si, a.word)
    out = rep.to_dict(rows=rows)
    names = cluster_names(rep, review)
    for s in out["senses"]:
        s["label"] = names.get(s["cluster"])
    if rows:
        for r in out["rows"]:
            lab = effective.get(r["occurrence_id"])
            r["label"], r["label_source"] = (lab if lab else (None, None))
    per_doc = Counter((o.doc, o.cluster) for o in rep.rows)
    out["documents"] = [{"doc": d, "clusters": {str(s.cluster): per_doc.get((d, s.cluster), 0) for s in rep.senses}}
                        for d in sorted({o.doc for o in rep.rows})]
    return out


# --- writing labels ---------------------------------------------------------------------------
def index_id(si, handle: IndexHandle) -> str:
    if handle.index_id is None:
        handle.index_id = si.info()["index_id"]
    return handle.index_id


def _ids(values, what: str) -> list[int]:
    if not isinstance(values, list) or not values:
        raise BadRequest(f"{what} must be a non-empty list of occurrence ids")
    if len(values) > MAX_IDS:
        raise BadRequest(f"at most {MAX_IDS:,} occurrence ids in one write")
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise BadRequest(f"{what} must be occurrence ids (numbers)") from None


def _restore_rows(restore, index: str) -> tuple[list[dict], list[int]]:
    """Undo: the labels to write back and the occurrence ids whose review label to clear."""
    if not isinstance(restore, dict) or not restore:
        raise BadRequest("restore must map occurrence ids to a label or null")
    if len(restore) > MAX_IDS:
        raise BadRequest(f"at most {MAX_IDS:,} occurrence ids in one write")
    rows: list[dict] = []
    clear: list[int] = []
    for oid, lab in restore.items():
        try:
            oid = int(oid)
        except ValueError:
            raise BadRequest("restore must map occurrence ids (numbers) to labels") from None
        if lab is None:
            clear.append(oid)
        else:
            rows.append({"index_id": index, "occurrence_id": oid, "label": label_text(lab)})
    return rows, clear


def _file_rows(rows, index: str) -> list[dict]:
    """Rows shaped like a review file's, checked for shape only (import does the rest)."""
    if not isinstance(rows, list) or not rows or len(rows) > MAX_IDS:
        raise BadRequest(f"rows must be a list of 1 to {MAX_IDS:,} review rows")
    if not all(isinstance(r, dict) for r in rows):
        raise BadRequest("each row must be an object with the review file's columns")
    return [{"index_id": index, **r} for r in rows]


def _cluster_rows(si, handle: IndexHandle, body: dict) -> list[dict]:
    """A whole cluster: its lines whose review label is empty or the cluster's current name."""
    p = Params(body)
    a = SensesArgs.parse(p)
    c = p.int("cluster", None, 0, 10_000)
    label = label_text(body.get("label"))
    rep = report(si, handle, a)
    if c not in {s.cluster for s in rep.senses}:
        raise BadRequest(f"{rep.lemma} has no cluster {c} (it has {rep.k})")
    _, review = stored_labels(si, a.word)
    current = cluster_names(rep, review)[c] or rep.names()[c]  # lines moved here carry its suggested name
    rows = [{"index_id": rep.index_id, "occurrence_id": o.occurrence_id, "cluster": c, "label": "",
             "cluster_label": label}
            for o in rep.rows if o.cluster == c and review.get(o.occurrence_id) in (None, current)]
    if not rows:
        raise BadRequest(f"every line of cluster {c} carries a label of its own")
    return rows


def write_labels(si, handle: IndexHandle, body: dict) -> dict:
    """One label write from the workbench, through SenseIndex.review_labels (all or nothing):

    * {"word", "cluster", "label"} names a whole cluster: every occurrence of it whose review
      label is empty or is the cluster's current name (else its suggested name) gets `label`;
      lines moved to another sense keep theirs;
    * {"occurrence_ids": [...], "label"} labels those lines (also: moves them to another cluster);
    * {"restore": {"id": "label" or null}} writes back a previous state (undo);
    * {"rows": [...]} takes rows shaped like a review file's, as `labels import` does.
    """
    mine = index_id(si, handle)
    clear: list[int] = []
    if "restore" in body:
        rows, clear = _restore_rows(body["restore"], mine)
    elif "rows" in body:
        rows = _file_rows(body["rows"], mine)
    elif "cluster" in body:
        rows = _cluster_rows(si, handle, body)
    elif "occurrence_ids" in body:
        label = label_text(body.get("label"))
        rows = [{"index_id": mine, "occurrence_id": oid, "label": label}
                for oid in _ids(body["occurrence_ids"], "occurrence_ids")]
    else:
        raise BadRequest("give cluster and label, occurrence_ids and label, restore, or rows")
    result = si.review_labels(rows, clear)
    handle.labels_changed()
    result["before"] = {str(k): v for k, v in result["before"].items()}
    result.pop("file", None)
    return result


def import_upload(si, handle: IndexHandle, filename: str, data: bytes) -> dict:
    """A reviewed file uploaded from the browser, imported by SenseIndex.import_review (the code of
    `labels import`). It is saved under a name the server makes; the upload's name only picks
    .csv or .jsonl and appears in messages."""
    suffix = ".jsonl" if filename.lower().endswith((".jsonl", ".json")) else ".csv"
    shown = os.path.basename(filename.replace("\\", "/"))[:100] or "upload" + suffix
    fd, tmp = tempfile.mkstemp(prefix="senseindex-upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            result = si.import_review(tmp)
        except SenseIndexError as exc:
            raise SenseIndexError(str(exc).replace(tmp, shown)) from None
    finally:
        os.unlink(tmp)
    handle.labels_changed()
    result["file"] = shown
    return result


def review_export(si, handle: IndexHandle, a: SensesArgs, fmt: str) -> tuple[str, str]:
    """The review file of `senses --export` for this view (.csv, .jsonl or .html), with each
    occurrence's current review label already in `label` (importing it back changes nothing)."""
    from senseindex.output.html import review_page
    from senseindex.output.review_export import COLUMNS, review_rows
    from senseindex.output.rows import rows_text

    rep = report(si, handle, a)
    if fmt == "html":
        return review_page(rep), "text/html; charset=utf-8"
    _, review = stored_labels(si, a.word)
    rows = review_rows(rep)
    for r in rows:
        r["label"] = review.get(r["occurrence_id"], "")
    if fmt == "csv":
        return "\ufeff" + rows_text(rows, "csv", COLUMNS), "text/csv; charset=utf-8"
    return rows_text(rows, "nl", COLUMNS), "application/x-ndjson; charset=utf-8"


# --- active review ------------------------------------------------------------------------------
REVIEW_N = 10  # questions per batch on the review page
MAX_REVIEW_N = 100


def review_view(si, word: str, n: int) -> dict:
    """What the review page shows: the next batch of questions (SenseIndex.review) as lines split
    around the target, the sense names given so far and the word's status."""
    batch = si.review(word, n)
    questions = []
    for q in batch.questions:
        t = q.sentence
        questions.append({"id": q.occurrence_id, "reason": shown_reason(q.reason), "cluster": q.cluster + 1, "predicted": q.predicted,
                          "confidence": "" if q.confidence is None else f"{q.confidence:.0%}", "sentence": t,
                          "left": t[: q.start], "word": t[q.start : q.end], "right": t[q.end :], "doc": q.doc,
                          "doc_name": Path(q.doc).name, "line": q.line})
    wordnet = si.wordnet_senses(batch.lemma)
    by_key = {w["key"]: w for w in wordnet}
    return {"lemma": batch.lemma, "senses": batch.senses, "questions": questions,
            "stats": review_status_view(batch.status), "answered": answered(si, word), "wordnet": wordnet,
            "glosses": {s: by_key[s] for s in batch.senses if s in by_key}}


def answered(si, word: str, limit: int = 20) -> list[dict]:
    """The person's review labels of WORD, the latest first (the review page's list to correct)."""
    rows = sorted(si.labels(("review",), word), key=lambda r: (r["updated"] or "", r["occurrence_id"]), reverse=True)
    out = []
    for r in rows[:limit]:
        t, a, b = r["sentence"], r["start"], r["end"]
        out.append({"id": r["occurrence_id"], "label": r["label"], "left": clip_left(t[:a], 60), "word": t[a:b],
                    "right": clip_right(t[b:], 60)})
    return out


def shown_reason(reason: str) -> str:
    """A question's reason with its cluster numbered from 1, as the Senses page numbers them."""
    return re.sub(r"\b(sub-)?cluster (\d+)", lambda m: f"{m.group(1) or ''}cluster {int(m.group(2)) + 1}", reason)


def review_status_view(status: dict) -> dict:
    """The status of `review --status` with the accuracy as text, for the page's status line."""
    from senseindex.output.terminal import stop_text

    acc = status.get("estimated_accuracy")
    return {**status, "accuracy": "–" if acc is None else f"{acc:.1%}",
            "stop_text": stop_text(status["stop"]) if status.get("stop") else "",
            "senses_text": ", ".join(f"{s} {c:,}" for s, c in status.get("senses", {}).items()) or "none yet"}


# --- explain -----------------------------------------------------------------------------------
DEFAULT_SENTENCES = ["I have a [mole] on my hip", "The [mole] dug tunnels under the lawn at the zoo",
                     "One [mole] of carbon weighs twelve grams", "The agency discovered a [mole] in its ranks"]


def explain_sentences(values: list[str]) -> list[str]:
    sentences = [s.strip() for v in values for s in v.splitlines() if s.strip()]
    if len(sentences) > MAX_SENTENCES:
        raise BadRequest(f"at most {MAX_SENTENCES} sentences")
    for s in sentences:
        if len(s) > MAX_QUERY:
            raise BadRequest(f"a sentence is longer than {MAX_QUERY:,} characters")
    if len(sentences) < 2:
        raise BadRequest("give two or more sentences, each with a marked word like [mole]")
    return sentences


def heat(value: float | None) -> str:
    """A cell colour for a cosine: white at 0 (or below), dark blue at 1."""
    if value is None:
        return "#eeeeee"
    t = min(1.0, max(0.0, float(value)))
    r, g, b = (round(255 + (c - 255) * t) for c in (8, 69, 148))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(matrix: list[list[float | None]], cell: int = 64) -> dict:
    n = len(matrix)
    cells = [{"x": 28 + j * cell, "y": 22 + i * cell, "fill": heat(v), "text": "n/a" if v is None else f"{v:.3f}",
              "dark": v is not None and v > 0.55, "i": i + 1, "j": j + 1}
             for i, row in enumerate(matrix) for j, v in enumerate(row)]
    return {"size": 28 + n * cell + 4, "cell": cell, "cells": cells, "n": n,
            "labels": [(28 + i * cell + cell // 2, 22 + i * cell + cell // 2, i + 1) for i in range(n)]}


# --- senses over metadata -------------------------------------------------------------------
@dataclass
class OverArgs:
    word: str
    by: str
    width: float | None
    of: str
    where: str | None
    k: int | str

    @classmethod
    def parse(cls, p: Params) -> OverArgs:
        width = p.int("bin", None, 1, 10**6)
        return cls(p.text("word", required=True, max_len=100), p.text("by", required=True, max_len=100),
                   float(width) if width else None, p.choice("of", ("auto", "label", "cluster"), "auto"),
                   p.text("where", max_len=1000), p.k_auto())

    def run(self, si, lines: tuple[str, str] | None = None) -> dict:
        return si.senses_over(self.word, self.by, self.width, self.of, self.where, self.k, lines=lines)


def over_chart(data: dict, href, width: int = 760, height: int = 340) -> dict:
    """Geometry of the senses-over-metadata chart: a line per sense through its share per bin,
    its Wilson band, and a point per bin linking (`href(bin, sense)`) to the lines behind it."""
    left, right, top, bottom = 48, 16, 16, 44
    bins = [b["bin"] for b in data["bins"]]
    step = (width - left - right) / max(1, len(bins) - 1)

    def x(i: int) -> float:
        return round(left + (i * step if len(bins) > 1 else (width - left - right) / 2), 1)

    def y(share: float) -> float:
        return round(top + (1 - share) * (height - top - bottom), 1)

    series = []
    for n, sense in enumerate(data["senses"]):
        rows = {r["bin"]: r for r in data["rows"] if r["sense"] == sense and r["share"] is not None}
        idx = [i for i, b in enumerate(bins) if b in rows]
        points = [{"x": x(i), "y": y(rows[bins[i]]["share"]), "bin": bins[i], "sense": sense,
                   "count": rows[bins[i]]["count"], "n": rows[bins[i]]["bin_occurrences"],
                   "share": rows[bins[i]]["share"], "ci": (rows[bins[i]]["ci_low"], rows[bins[i]]["ci_high"]),
                   "href": href(bins[i], sense)} for i in idx]
        band = [f"{x(i)},{y(rows[bins[i]]['ci_high'])}" for i in idx] + \
               [f"{x(i)},{y(rows[bins[i]]['ci_low'])}" for i in reversed(idx)]
        series.append({"sense": sense, "colour": colour(n, sense), "points": points,
                       "line": " ".join(f"{p['x']},{p['y']}" for p in points), "band": " ".join(band)})
    ticks = [{"y": y(v / 100), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)]
    return {"width": width, "height": height, "series": series, "ticks": ticks, "left": left,
            "bottom": height - bottom, "labels": [{"x": x(i), "text": b} for i, b in enumerate(bins)]}
