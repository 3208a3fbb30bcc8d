"""What every corpus reader yields (sentences, tokens) and reads with (options, decoded lines).

A module of its own so the format readers (corpus.py for text and tables, conllu.py, vertical.py,
tei.py) share these without importing one another.
"""

from __future__ import annotations

import codecs
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from senseindex.errors import CorpusError


@dataclass
class Token:
    """A pre-tokenised word with optional annotations from research data or a corpus."""

    start: int
    end: int
    word: str
    lemma: str | None = None
    sense: str | None = None
    pos: str | None = None  # a Penn tag (tagsets.penn_tag maps a corpus's own)
    upos: str | None = None  # its universal tag, when known (the stopword rule reads it)


@dataclass
class Sentence:
    text: str
    line: int  # 1-based line of the source where the sentence starts
    section: str | None = None  # record-level document id (a JSONL "doc" field, `# newdoc id`, <text id>)
    tokens: list[Token] | None = field(default=None)  # set for pre-tokenised input
    meta: dict[str, str | float] | None = None  # metadata of the text the sentence belongs to
    layout: dict | None = None  # the corpus's own token lines, kept for export-corpus (see export.py)
    needs_tags: bool = False  # pre-tokenised without lemmas or tags: the tagger tags its tokens


@dataclass
class ReadOptions:
    text_field: str = "text"
    text_column: str = "text"
    encoding: str = "utf-8"
    errors: str = "strict"
    vrt_attrs: tuple[str, ...] | None = None  # positional attributes of a vertical file (else its header)
    meta_fields: tuple[str, ...] = ()  # JSONL fields / CSV columns that are document metadata
    meta_path: str | None = None  # a path pattern whose {fields} are metadata: "{genre}/{year}-*.txt"


def open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def lines(path: Path, opts: ReadOptions) -> Iterator[tuple[int, str]]:
    """Decoded lines with 1-based numbers; a decoding failure names the file and line."""
    try:
        codecs.lookup(opts.encoding)
    except LookupError:
        raise CorpusError(f"unknown encoding {opts.encoding!r}") from None
    with open_binary(path) as fh:
        try:
            head = fh.peek(8192)[:8192] if hasattr(fh, "peek") else b""
        except (OSError, EOFError) as exc:
            raise CorpusError(f"{path}: cannot read ({exc})") from None
        if b"\x00" in head and not opts.encoding.lower().startswith("utf-16"):
            raise CorpusError(f"{path}: looks like a binary file, not text")
        try:
            for number, raw in enumerate(fh, 1):
                try:
                    yield number, raw.decode(opts.encoding, opts.errors).rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    raise CorpusError(
                        f"{path}:{number}: cannot decode byte 0x{raw[exc.start]:02x} at column {exc.start + 1} "
                        f"as {opts.encoding} (try --encoding or --errors replace)"
                    ) from None
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise CorpusError(f"{path}: cannot read ({exc})") from None


def join_tokens(words: list[tuple[str, bool]]) -> tuple[str, list[tuple[int, int]]]:
    """(text, span of each word) of words given as (form, space after it)."""
    parts, spans, pos = [], [], 0
    for form, space in words:
        spans.append((pos, pos + len(form)))
        parts.append(form + (" " if space else ""))
        pos += len(form) + (1 if space else 0)
    return "".join(parts).rstrip(" "), spans
