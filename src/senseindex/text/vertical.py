"""Vertical files (VRT: CWB, CQPweb, Sketch Engine, Korp, NoSketch Engine), streamed.

One token a line with tab-separated positional attributes, named by the user (`--vrt-attrs
word,lemma,pos`) or by a header comment (`<!-- #vrt positional-attributes: word lemma pos -->`,
Korp's); a single column needs no name (it is the word). Structures are tags on lines of their
own: `<text id="…" year="…">` starts a document whose attributes are its metadata, `<s>` a
sentence; others (`<p>`, `<div>`, `<ne>`) may nest, and each must close in order. Without `<s>`,
a sentence ends after `.`, `!` or `?` or at a structure tag. Entities (&lt; &gt; &amp; &quot;
&apos;) are decoded in tokens and attribute values. A sentence's own lines are kept in its layout,
so an export writes them back with one more attribute (the sense).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import unescape

from senseindex.errors import CorpusError
from senseindex.text.source import ReadOptions, Sentence, Token, join_tokens, lines
from senseindex.text.tagsets import penn_tag, universal_tag

_TAG = re.compile(r"^<(/?)([A-Za-z_][\w.:-]*)((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>$")
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_HEADER = re.compile(r"<!--\s*#vrt\s+positional-attributes\s*:\s*(.*?)\s*-->")
ENTITIES = {"&quot;": '"', "&apos;": "'"}
TAG_NAMES = ("pos", "tag", "upos", "xpos", "c5")
SENTENCE_END = frozenset(".!?")


def parse_tag(line: str) -> tuple[bool, str, dict[str, str], bool] | None:
    """(closing, name, attributes, self-closing) of a structure line, None if it is no tag."""
    m = _TAG.match(line.strip())
    if not m:
        return None
    attrs = {a: unescape(dq or sq, ENTITIES) for a, dq, sq in _ATTR.findall(m.group(3))}
    return bool(m.group(1)), m.group(2), attrs, bool(m.group(4))


class _State:
    def __init__(self, path: Path, attrs: tuple[str, ...] | None) -> None:
        self.path = path
        self.attrs = attrs
        self.stack: list[tuple[str, int]] = []  # open structures (name, line)
        self.section: str | None = None
        self.meta: dict | None = None
        self.tokens: list[tuple[int, list[str]]] = []
        self.layout: list[str] = []
        self.open_s: str | None = None
        self.first = 0

    def columns(self, number: int, line: str) -> list[str]:
        cols = [unescape(c, ENTITIES) for c in line.split("\t")] if "&" in line else line.split("\t")
        if self.attrs is None:
            if len(cols) > 1:
                raise CorpusError(f"{self.path}:{number}: {len(cols)} positional attributes; name them with "
                                  "--vrt-attrs (e.g. word,lemma,pos) or a header line "
                                  "<!-- #vrt positional-attributes: word lemma pos -->")
            self.attrs = ("word",)
        if "word" not in self.attrs:
            raise CorpusError(f"{self.path}:{number}: the positional attributes ({', '.join(self.attrs)}) name no word")
        if len(cols) != len(self.attrs):
            raise CorpusError(f"{self.path}:{number}: {len(cols)} positional attributes where "
                              f"{len(self.attrs)} are declared ({', '.join(self.attrs)})")
        if not cols[self.attrs.index("word")]:
            raise CorpusError(f"{self.path}:{number}: an empty word")
        return cols

    def flush(self) -> Sentence | None:
        if not self.tokens:
            self.layout, self.first = [], 0
            return None
        attrs = self.attrs or ("word",)
        rec = [dict(zip(attrs, cols, strict=True)) for _, cols in self.tokens]
        text, spans = join_tokens([(r["word"], True) for r in rec])
        tokens = []
        for r, (s, e) in zip(rec, spans, strict=True):
            raw = next((r[n] for n in TAG_NAMES if r.get(n) not in (None, "", "_")), None)
            pos = penn_tag(raw, r.get("xpos"))
            lemma = r.get("lemma") if r.get("lemma") not in (None, "", "_") else None
            sense = r.get("sense") if r.get("sense") not in (None, "", "_") else None
            tokens.append(Token(s, e, r["word"], lemma, sense, pos, universal_tag(raw, pos, r["word"])))
        needs = all(t.lemma is None and t.pos is None for t in tokens)
        # the layout's token lines carry their word's span; structure lines inside the sentence carry none
        rows, k = [], 0
        for line in self.layout:
            if line.startswith("<"):
                rows.append([line, -1, -1])
            else:
                rows.append([line, *spans[k]])
                k += 1
        layout = {"f": "vrt", "a": list(attrs), "s": self.open_s, "l": rows}
        sent = Sentence(text, self.first, self.section, tokens, dict(self.meta) if self.meta else None, layout, needs)
        self.tokens, self.layout, self.first = [], [], 0
        return sent


def read_vertical(path: Path, opts: ReadOptions) -> Iterator[Sentence]:
    st = _State(path, tuple(opts.vrt_attrs) if opts.vrt_attrs else None)
    for number, line in lines(path, opts):
        if not line.strip():
            continue
        if line.startswith("<!--") or line.startswith("<?"):
            m = _HEADER.search(line)
            if m and opts.vrt_attrs is None:
                st.attrs = tuple(m.group(1).replace(",", " ").split())
            continue
        if line.startswith("<") and len(line) > 1 and (line[1].isalpha() or line[1] in "/_"):
            tag = parse_tag(line)
            if tag is None:
                raise CorpusError(f"{path}:{number}: malformed structure tag {line[:60]!r}")
            closing, name, attrs, empty = tag
            if name == "s" or (st.open_s is None and not empty):
                done = st.flush()  # a sentence without <s> ends at any structure
                if done:
                    yield done
            if closing:
                if not st.stack or st.stack[-1][0] != name:
                    want = f"</{st.stack[-1][0]}> (opened at line {st.stack[-1][1]})" if st.stack else "no closing tag"
                    raise CorpusError(f"{path}:{number}: </{name}> where {want} was expected")
                st.stack.pop()
                if name == "s":
                    st.open_s = None
                elif name == "text":
                    st.section, st.meta = None, None
                elif st.open_s is not None:
                    st.layout.append(line)
                continue
            if empty:
                if st.open_s is not None:
                    st.layout.append(line)
                continue
            if name == "s" and st.open_s is not None:
                raise CorpusError(f"{path}:{number}: <s> inside the sentence opened at line {st.first or number}")
            if name == "text":
                if any(n == "text" for n, _ in st.stack):
                    raise CorpusError(f"{path}:{number}: <text> inside another <text>")
                st.section = attrs.get("id")
                st.meta = {k: v for k, v in attrs.items() if k != "id"} or None
            st.stack.append((name, number))
            if name == "s":
                st.open_s, st.first = line, number
            elif st.open_s is not None:
                st.layout.append(line)
            continue
        cols = st.columns(number, line)
        st.first = st.first or number
        st.tokens.append((number, cols))
        st.layout.append(line)
        if st.open_s is None and cols[st.attrs.index("word")] in SENTENCE_END:
            done = st.flush()
            if done:
                yield done
    if st.stack:
        name, at = st.stack[-1]
        raise CorpusError(f"{path}: <{name}> opened at line {at} is never closed")
    done = st.flush()
    if done:
        yield done
