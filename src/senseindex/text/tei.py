"""A TEI subset, enough for the BNC XML edition: streamed with expat, one sentence in memory.

- `<text>`, `<wtext>`, `<stext>` (the BNC's written and spoken texts) are documents: their
  attributes are metadata, their id (`xml:id`, `id` or `n`, else the enclosing `<bncDoc>`/`<TEI>`
  id) the document id;
- `<s>` is a sentence, `<w>` a word with its lemma (`lemma`, or the BNC's `hw`) and tag (`c5`,
  else `pos`: CLAWS5, the BNC's simplified classes, UPOS or Penn, see tagsets.py); `<c>` is
  punctuation; `<mw>` and other wrappers are read through;
- a space after a word is kept where the file has one (the BNC puts it inside the element:
  `<w>word </w>`);
- an `<s>` with no `<w>` is plain text (tagged like a .txt sentence); a `<p>` or `<head>` with text
  and no `<s>` is split into sentences.
The header (`<teiHeader>`) is skipped. Malformed XML stops with the file and line; no external
entity is ever fetched (expat's defaults; parameter entities are off).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

from senseindex.errors import CorpusError
from senseindex.text.sentences import split_sentences
from senseindex.text.source import ReadOptions, Sentence, Token, join_tokens, open_binary
from senseindex.text.tagsets import penn_tag, universal_tag

TEXT_UNITS = frozenset({"text", "wtext", "stext"})
DOC_UNITS = frozenset({"bncDoc", "TEI", "TEI.2"})
BLOCKS = frozenset({"p", "head"})
BLOCK_BYTES = 1 << 16


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1] if ("}" in name or ":" in name) else name


def _ident(attrs: dict[str, str]) -> str | None:
    for key in ("xml:id", "id", "n"):
        for k, v in attrs.items():
            if k == key or _local(k) == key:
                return v
    return None


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.out: list[Sentence] = []
        self.units: list[tuple[str | None, dict | None]] = []  # open text units (section, metadata)
        self.doc_id: str | None = None
        self.header = 0
        self.s_line = 0  # line of the open <s>, 0 when none
        self.words: list[tuple[str, dict[str, str]]] = []  # (raw text, attributes) of the open <s>'s words
        self.word: dict[str, str] | None = None
        self.chars: list[str] = []  # character data of the open <w>/<c>
        self.between: list[str] = []  # character data in the open <s> outside words
        self.block: list[str] | None = None  # text of an open <p>/<head> with no <s>
        self.block_line = 0
        self.block_has_s = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        name = _local(name)
        if self.header or name == "teiHeader":
            self.header += 1
            return
        if name in DOC_UNITS:
            self.doc_id = _ident(attrs) or self.doc_id
        elif name in TEXT_UNITS:
            meta = {_local(k): v for k, v in attrs.items() if _local(k) not in ("id", "n")}
            self.units.append((_ident(attrs) or self.doc_id, meta or None))
        elif name == "s":
            if self.s_line:
                raise CorpusError(f"{self.path}:{self.p.CurrentLineNumber}: <s> inside the <s> of line {self.s_line}")
            self.s_line, self.words, self.between = self.p.CurrentLineNumber, [], []
            self.block_has_s = True
        elif name in ("w", "c") and self.s_line:
            self.word, self.chars = {"_kind": name, **{_local(k): v for k, v in attrs.items()}}, []
            if self.between:
                self._space_before()
        elif name in BLOCKS and not self.s_line:
            self.block, self.block_line, self.block_has_s = [], self.p.CurrentLineNumber, False

    def _space_before(self) -> None:
        """Whitespace between two words of a sentence is a space after the first."""
        if self.words and any(c.isspace() for c in "".join(self.between)):
            raw, attrs = self.words[-1]
            if not raw[-1:].isspace():
                self.words[-1] = (raw + " ", attrs)
        self.between = []

    def end(self, name: str) -> None:
        name = _local(name)
        if self.header:
            self.header -= 1
            return
        if name in TEXT_UNITS and self.units:
            self.units.pop()
        elif name in ("w", "c") and self.word is not None:
            self.words.append(("".join(self.chars), self.word))
            self.word = None
        elif name == "s" and self.s_line:
            self._space_before()
            self._sentence()
            self.s_line = 0
        elif name in BLOCKS and self.block is not None:
            text = " ".join("".join(self.block).split())
            if text and not self.block_has_s:
                section, meta = self.units[-1] if self.units else (self.doc_id, None)
                for _, sent in split_sentences(text):
                    self.out.append(Sentence(sent, self.block_line, section, meta=meta))
            self.block = None

    def data(self, text: str) -> None:
        if self.header:
            return
        if self.word is not None:
            self.chars.append(text)
        elif self.s_line:
            self.between.append(text)
        if self.block is not None:
            self.block.append(text)

    def _sentence(self) -> None:
        section, meta = self.units[-1] if self.units else (self.doc_id, None)
        if not self.words:
            text = " ".join("".join(self.between).split())
            if text:
                self.out.append(Sentence(text, self.s_line, section, meta=meta))
            return
        forms = [(raw.strip(), raw[-1:].isspace()) for raw, _ in self.words]
        kept = [(f, a) for (f, _), (_, a) in zip(forms, self.words, strict=True) if f]
        text, spans = join_tokens([f for f in forms if f[0]])
        tokens = []
        for (form, attrs), (s, e) in zip(kept, spans, strict=True):
            raw_tag = attrs.get("c5") or attrs.get("pos") or attrs.get("type")
            pos = penn_tag(raw_tag) if attrs["_kind"] == "w" else (penn_tag(raw_tag) or ".")
            tokens.append(Token(s, e, form, attrs.get("lemma") or attrs.get("hw"), None, pos,
                                universal_tag(attrs.get("pos"), pos, form)))
        needs = all(t.lemma is None and t.pos is None for t in tokens if any(c.isalpha() for c in t.word))
        layout = {"f": "tok", "t": [[t.start, t.end, t.lemma, t.pos, t.upos] for t in tokens]}
        self.out.append(Sentence(text, self.s_line, section, tokens, meta, layout, needs))


def read_tei(path: Path, opts: ReadOptions) -> Iterator[Sentence]:
    r = _Reader(path)
    p = expat.ParserCreate(encoding=None if opts.encoding.lower() in ("utf-8", "utf8") else opts.encoding)
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.buffer_text = True
    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = r.start, r.end, r.data
    r.p = p
    with open_binary(path) as fh:
        while True:
            try:
                block = fh.read(BLOCK_BYTES)
            except (OSError, EOFError) as exc:
                raise CorpusError(f"{path}: cannot read ({exc})") from None
            try:
                p.Parse(block, not block)
            except expat.ExpatError as exc:
                raise CorpusError(f"{path}:{exc.lineno}: malformed XML ({expat.errors.messages[exc.code]}, "
                                  f"column {exc.offset + 1})") from None
            yield from r.out
            r.out = []
            if not block:
                break
