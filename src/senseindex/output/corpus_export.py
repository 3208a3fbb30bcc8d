"""A sense-tagged corpus out: every indexed sentence, each occurrence with the label in effect.

Formats a concordancer loads:
- **CoNLL-U**: the sense in MISC, `Sense=…|SenseSource=review|SenseScore=0.93` (values
  percent-encoded where they hold `|`, `%`, spaces or tabs); documents as `# newdoc id` with their
  metadata as `# meta::field = value` (GUM's convention);
- **VRT**: `sense`, `sense_source` and `sense_score` as three more positional attributes (`_`
  where there is none), `<text id=… field=…>` around each document, `<s>` around each sentence,
  one header comment naming the attributes; the input rules of `cwb-encode` (`-P sense -P
  sense_source -P sense_score -S text:0+id+… -S s`);
- **JSONL**: one record a sentence, `{"doc", "text", "tokens", "spans", "lemma", "pos", "sense",
  "sense_source", "score", "meta"}`, which `senseindex index` reads back.
The corpus's own tokenisation is kept: a CoNLL-U sentence is written with its own lines (MISC
extended), a VRT sentence with its own token lines (attributes appended), a TEI sentence with its
tokens; plain text is split into words and punctuation, each multiword occurrence one token.
Written to a temporary file and renamed: an export is whole or absent. Sentences are read in
batches, so memory does not grow with the corpus.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import unescape

from senseindex.errors import SenseIndexError
from senseindex.storage.db import placeholders, select_in
from senseindex.storage.labels import effective_labels
from senseindex.storage.metadata import metadata_of
from senseindex.text.tagsets import penn_tag, universal_tag
from senseindex.text.vertical import ENTITIES

FORMATS = ("conllu", "vrt", "jsonl")
SENSE_ATTRS = ("sense", "sense_source", "sense_score")
BATCH = 500
_PIECES = re.compile(r"\w+(?:['’-]\w+)*|[^\w\s]")


@dataclass
class Tok:
    start: int
    end: int
    form: str
    lemma: str | None
    pos: str | None
    line: str | None = None  # the corpus's own line (CoNLL-U, VRT), None for a generated token
    word: bool = True  # False for CoNLL-U range lines and empty nodes, VRT structure lines


def _blank(value: str | None) -> str | None:
    return None if value in (None, "", "_") else value


def _quote(value: str) -> str:
    return "".join({"%": "%25", "|": "%7C", " ": "%20", "\t": "%09", "\n": "%0A"}.get(c, c) for c in value)


def _vrt_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _score(conf) -> str:
    return "_" if conf is None else f"{float(conf):.3f}"


def tokens_of(text: str, layout: dict | None, occ: list[tuple]) -> list[Tok]:
    """The sentence's tokens: from its stored layout, else its occurrences (a multiword one is one
    token) and words and punctuation between them. A token the corpus gave no lemma or tag takes
    its occurrence's (the tagger's)."""
    toks = _layout_tokens(text, layout, occ)
    by_span = {(o[2], o[3]): o for o in occ}
    for t in toks:
        o = by_span.get((t.start, t.end)) if t.word else None
        if o is not None:
            t.lemma = t.lemma or o[4]
            t.pos = t.pos or o[5]
    return toks


def _layout_tokens(text: str, layout: dict | None, occ: list[tuple]) -> list[Tok]:
    if layout and layout.get("f") in ("conllu", "vrt"):
        out = []
        conllu = layout["f"] == "conllu"
        attrs = layout.get("a") or []
        tag_at = next((attrs.index(n) for n in ("pos", "tag", "upos", "xpos", "c5") if n in attrs), None)
        for line, s, e in layout["l"]:
            cols = line.split("\t") if conllu else [unescape(c, ENTITIES) for c in line.split("\t")]
            if s < 0 or (conllu and not cols[0].isdigit()):  # a structure, a range line, an empty node
                out.append(Tok(-1, -1, "", None, None, line, False))
            elif conllu:
                out.append(Tok(s, e, cols[1], _blank(cols[2]), penn_tag(_blank(cols[3]), _blank(cols[4])), line))
            else:
                rec = dict(zip(attrs, cols, strict=False))
                out.append(Tok(s, e, rec.get("word", text[s:e]), _blank(rec.get("lemma", "_")),
                               penn_tag(_blank(cols[tag_at])) if tag_at is not None and tag_at < len(cols) else None,
                               line))
        return out
    if layout and layout.get("f") == "tok":
        return [Tok(s, e, text[s:e], lemma, pos) for s, e, lemma, pos, *_ in layout["t"]]
    spans = sorted({(o[2], o[3]): o for o in occ}.values(), key=lambda o: (o[2], -(o[3] - o[2])))
    out, pos = [], 0
    for o in spans:
        if o[2] < pos:
            continue  # a part of a hyphenated word already written whole
        out.extend(Tok(pos + m.start(), pos + m.end(), m.group(), None, None) for m in _PIECES.finditer(text[pos:o[2]]))
        out.append(Tok(o[2], o[3], text[o[2]:o[3]], o[4], o[5]))
        pos = o[3]
    out.extend(Tok(pos + m.start(), pos + m.end(), m.group(), None, None) for m in _PIECES.finditer(text[pos:]))
    return out


class _Writer:
    def __init__(self, fh, fmt: str, attrs: list[str] | None) -> None:
        self.fh = fh
        self.fmt = fmt
        self.attrs = attrs  # the VRT attributes of every sentence's own lines, when they all share them
        self.text_key: tuple | None = None
        self.open_text = False
        if fmt == "vrt":
            names = [a for a in (attrs or ["word", "lemma", "pos"]) if a not in SENSE_ATTRS]
            fh.write(f"<!-- #vrt positional-attributes: {' '.join([*names, *SENSE_ATTRS])} -->\n")

    def sentence(self, sid: int, doc: str, section: str | None, text_key, meta: dict, text: str,
                 layout: dict | None, toks: list[Tok], labels: dict[tuple[int, int], tuple]) -> None:
        new_text = text_key != self.text_key
        self.text_key = text_key
        getattr(self, f"_{self.fmt}")(sid, doc, section, meta, text, layout, toks, labels, new_text)

    def close(self) -> None:
        if self.fmt == "vrt" and self.open_text:
            self.fh.write("</text>\n")

    # --- CoNLL-U ---------------------------------------------------------------------------
    def _conllu(self, sid, doc, section, meta, text, layout, toks, labels, new_text) -> None:
        out = []
        if new_text:
            out.append(f"# newdoc id = {section or doc}")
            out.extend(f"# meta::{k} = {v}" for k, v in sorted(meta.items()))
        own = layout is not None and layout.get("f") == "conllu"
        comments = [c for c in (layout or {}).get("c", []) if not c[1:].strip().startswith(("newdoc", "meta::"))]
        if not own or not any(c[1:].strip().startswith("sent_id") for c in comments):
            out.append(f"# sent_id = {sid}")
        out.extend(comments if own else [f"# text = {text}"])
        words = toks if own else [t for t in toks if t.word]
        for i, t in enumerate(words):
            if own:
                cols = t.line.split("\t")
            else:
                space = i + 1 == len(words) or words[i + 1].start > t.end
                upos = universal_tag(None, t.pos) or "X"
                cols = [str(i + 1), t.form, t.lemma or "_", upos if t.pos else "_", t.pos or "_", "_", "_", "_", "_",
                        "_" if space else "SpaceAfter=No"]
            label = labels.get((t.start, t.end)) if t.word else None
            if label:
                misc = [m for m in cols[9].split("|") if m and m != "_" and not m.startswith(("Sense=", "SenseSource=",
                                                                                          "SenseScore="))]
                misc += [f"Sense={_quote(label[0])}", f"SenseSource={label[1]}"]
                if label[2] is not None:
                    misc.append(f"SenseScore={_score(label[2])}")
                cols[9] = "|".join(misc)
            out.append("\t".join(cols))
        self.fh.write("\n".join(out) + "\n\n")

    # --- VRT -------------------------------------------------------------------------------
    def _vrt(self, sid, doc, section, meta, text, layout, toks, labels, new_text) -> None:  # noqa: ARG002 (one signature per format)
        out = []
        if new_text:
            if self.open_text:
                out.append("</text>")
            attrs = "".join(f' {k}="{_vrt_escape(str(v))}"' for k, v in sorted(meta.items())
                            if re.fullmatch(r"[A-Za-z_][\w.-]*", k) and k != "id")
            out.append(f'<text id="{_vrt_escape(section or doc)}"{attrs}>')
            self.open_text = True
        own = layout is not None and layout.get("f") == "vrt" and self.attrs == layout["a"]
        out.append((layout or {}).get("s") or "<s>" if own else f'<s id="{sid}">')
        keep = [i for i, a in enumerate(self.attrs or []) if a not in SENSE_ATTRS]
        for t in toks:
            if not t.word:
                if own:
                    out.append(t.line)  # a structure inside the sentence (<ne>); CoNLL-U's ranges are left out
                continue
            label = labels.get((t.start, t.end))
            extra = [_vrt_escape(label[0]), label[1], _score(label[2])] if label else ["_", "_", "_"]
            if own:
                cols = t.line.split("\t")
                cols = [cols[i] for i in keep]
            else:
                cols = [_vrt_escape(t.form), _vrt_escape(t.lemma or "_"), t.pos or "_"]
            out.append("\t".join([*cols, *extra]))
        out.append("</s>")
        self.fh.write("\n".join(out) + "\n")

    # --- JSONL -----------------------------------------------------------------------------
    def _jsonl(self, sid, doc, section, meta, text, layout, toks, labels, new_text) -> None:  # noqa: ARG002 (one signature per format)
        words = [t for t in toks if t.word]
        found = [labels.get((t.start, t.end)) for t in words]
        record = {"doc": section or doc, "text": text, "tokens": [t.form for t in words],
                  "spans": [[t.start, t.end] for t in words],
                  "lemma": [t.lemma for t in words], "pos": [t.pos for t in words],
                  "sense": [f[0] if f else None for f in found],
                  "sense_source": [f[1] if f else None for f in found],
                  "score": [None if not f or f[2] is None else round(float(f[2]), 4) for f in found]}
        if meta:
            record["meta"] = meta
        self.fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def export_corpus(db, out: str | Path, fmt: str | None = None, lemmas: Sequence[str] = (), labels: Sequence[str] = (),
                  where=None, progress: Callable[[int], None] | None = None) -> dict:
    """Write the index's sentences with the labels in effect (see the module's docstring).

    `lemmas`: only sentences with an occurrence of one of them, and only theirs carry senses;
    `labels`: only sentences with an occurrence whose label in effect is one of them (the others'
    senses are left out); `where`: a metadata selection (storage.where.Selection)."""
    out = Path(out)
    fmt = fmt or _format_of(out)
    if fmt not in FORMATS:
        raise SenseIndexError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    cond, params = ["1"], []
    if where is not None:
        cond.append(where.sql)
        params.extend(where.params)
    lemma_ids = None
    if lemmas:
        lemma_ids = [r[0] for r in select_in(db, "select id from lemmas where lemma in ({ids})", list(lemmas))]
        if not lemma_ids:
            raise SenseIndexError(f"none of {', '.join(lemmas)} is in the index")
        cond.append(f"s.id in (select o.sentence_id from occ o where o.lemma_id in ({placeholders(len(lemma_ids))}))")
        params.extend(lemma_ids)
    attrs = _shared_vrt_attrs(db) if fmt == "vrt" else None
    tmp = out.with_name(out.name + ".tmp")
    counts = {"sentences": 0, "tokens": 0, "senses": 0}
    try:
        with (gzip.open(tmp, "wt", encoding="utf-8") if out.name.endswith(".gz")
              else open(tmp, "w", encoding="utf-8", newline="\n")) as fh:
            writer = _Writer(fh, fmt, attrs)
            for batch in _batches(db, " and ".join(cond), params):
                _write_batch(db, writer, batch, lemma_ids, set(labels), counts)
                if progress:
                    progress(len(batch))
            writer.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return {"path": str(out), "format": fmt, **counts}


def _format_of(out: Path) -> str:
    name = out.name.lower().removesuffix(".gz")
    ext = name.rsplit(".", 1)[-1]
    return {"conll": "conllu", "vert": "vrt", "vrt": "vrt", "conllu": "conllu", "jsonl": "jsonl"}.get(ext, ext)


def _shared_vrt_attrs(db) -> list[str] | None:
    """The positional attributes every sentence's own VRT lines share, or None (then every
    sentence is written as word, lemma, pos)."""
    kinds = {r[0] for r in db.execute("select distinct case when layout like '{\"f\":\"vrt\"%' then "
                                      "json_extract(layout, '$.a') else '' end from sentences")}
    return json.loads(next(iter(kinds))) if len(kinds) == 1 and "" not in kinds else None


def _batches(db, cond: str, params: list) -> Iterator[list[tuple]]:
    cur = db.conn.execute("select s.id, d.path, s.section, s.text_id, s.text, s.layout, s.document_id from sentences s "
                          f"join documents d on d.id = s.document_id where {cond} order by s.id", params)
    while True:
        rows = cur.fetchmany(BATCH)
        if not rows:
            return
        yield rows


def _write_batch(db, writer: _Writer, batch: list[tuple], lemma_ids, labels: set[str], counts: dict) -> None:
    sids = [r[0] for r in batch]
    occ: dict[int, list[tuple]] = {}
    for row in select_in(db, "select o.id, o.sentence_id, o.start, o.end, l.lemma, o.pos, o.lemma_id from occ o "
                             "join lemmas l on l.id = o.lemma_id where o.sentence_id in ({ids}) order by o.id", sids):
        if lemma_ids is None or row[6] in lemma_ids:
            occ.setdefault(row[1], []).append(row)
    found = effective_labels(db, [o[0] for rows in occ.values() for o in rows], confidence=True)
    metas = metadata_of(db, [r[3] for r in batch if r[3] is not None])
    for sid, doc, section, text_id, text, layout_json, doc_id in batch:
        layout = json.loads(layout_json) if layout_json else None
        by_span = {}
        for o in occ.get(sid, ()):
            label = found.get(o[0])
            if label and (not labels or label[0] in labels):
                by_span.setdefault((o[2], o[3]), label)
        if labels and not by_span:
            continue
        toks = tokens_of(text, layout, occ.get(sid, []) if lemma_ids is None else _all_occ(db, sid))
        writer.sentence(sid, doc, section, (doc_id, section, text_id), metas.get(text_id, {}), text, layout,
                        toks, by_span)
        counts["sentences"] += 1
        counts["tokens"] += sum(1 for t in toks if t.word)
        counts["senses"] += len(by_span)


def _all_occ(db, sid: int) -> list[tuple]:
    """Every occurrence of a sentence (its tokens are cut at them even where only some lemmas carry senses)."""
    return db.execute("select o.id, o.sentence_id, o.start, o.end, l.lemma, o.pos, o.lemma_id from occ o "
                      "join lemmas l on l.id = o.lemma_id where o.sentence_id = ? order by o.id", [sid]).fetchall()
