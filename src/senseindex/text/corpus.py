"""Reading corpora: files of several formats streamed as sentences with source line numbers."""

from __future__ import annotations

import bisect
import codecs
import csv
import fnmatch
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from senseindex.errors import CorpusError
from senseindex.text.sentences import MAX_SENTENCE_CHARS, split_sentences

DEFAULT_INCLUDE = ("*.txt", "*.jsonl", "*.csv", "*.tsv", "*.txt.gz", "*.jsonl.gz", "*.csv.gz", "*.tsv.gz")
FORMATS = ("txt", "jsonl", "csv", "tsv")

@dataclass
class Token:
    """A pre-tokenised word with optional annotations from research data."""

    start: int
    end: int
    word: str
    lemma: str | None = None
    sense: str | None = None
    pos: str | None = None


@dataclass
class Sentence:
    text: str
    line: int  # 1-based line of the source where the sentence starts
    section: str | None = None  # record-level document id (e.g. a JSONL "doc" field)
    tokens: list[Token] | None = field(default=None)  # set for pre-tokenised input


@dataclass
class ReadOptions:
    text_field: str = "text"
    text_column: str = "text"
    encoding: str = "utf-8"
    errors: str = "strict"


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return ext if ext in FORMATS else None


def resolve_sources(sources: Iterable[str | Path], include: Iterable[str] = DEFAULT_INCLUDE) -> list[Path]:
    """Expand files and directories (recursively, by include globs) into a sorted file list."""
    include = tuple(include)
    files: list[Path] = []
    for src in sources:
        p = Path(src)
        if not p.exists():
            raise CorpusError(f"{p}: no such file or directory")
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*") if f.is_file() and any(fnmatch.fnmatch(f.name, g) for g in include)
            )
            if not found:
                raise CorpusError(f"{p}: directory holds no readable files (looked for {', '.join(include)})")
            files.extend(found)
        else:
            if file_format(p) is None:
                raise CorpusError(f"{p}: unsupported file type (use .txt, .jsonl, .csv, .tsv, or .gz of these)")
            files.append(p)
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _lines(path: Path, opts: ReadOptions) -> Iterator[tuple[int, str]]:
    """Decoded lines with 1-based numbers; a decoding failure names the file and line."""
    try:
        codecs.lookup(opts.encoding)
    except LookupError:
        raise CorpusError(f"unknown encoding {opts.encoding!r}") from None
    with _open_binary(path) as fh:
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


def _txt(path: Path, opts: ReadOptions) -> Iterator[Sentence]:
    """Paragraphs (blank-line separated) are joined and sentence-split; line numbers are kept."""
    para: list[tuple[int, str]] = []

    def flush() -> Iterator[Sentence]:
        text_parts, starts, numbers, pos = [], [], [], 0
        for number, line in para:
            starts.append(pos)
            numbers.append(number)
            text_parts.append(line.strip())
            pos += len(line.strip()) + 1
        text = " ".join(text_parts)
        for offset, sent in split_sentences(text):
            # the line the sentence starts on, by bisection: a paragraph can be a whole file of lines
            yield Sentence(text=sent, line=numbers[max(0, bisect.bisect_right(starts, offset) - 1)])

    for number, line in _lines(path, opts):
        if line.strip():
            para.append((number, line))
        elif para:
            yield from flush()
            para = []
    if para:
        yield from flush()


def _pretokenised(record: dict, path: Path, number: int) -> Sentence:
    tokens = record["tokens"]
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise CorpusError(f"{path}:{number}: 'tokens' must be a list of strings")
    extras = {}
    for key in ("lemma", "sense", "pos"):
        vals = record.get(key)
        if vals is not None:
            if not isinstance(vals, list) or len(vals) != len(tokens):
                raise CorpusError(f"{path}:{number}: '{key}' must be a list as long as 'tokens'")
            extras[key] = vals
    text = " ".join(tokens)
    if len(text) > MAX_SENTENCE_CHARS:
        raise CorpusError(f"{path}:{number}: a pre-tokenised sentence of {len(text):,} characters is longer than "
                          f"{MAX_SENTENCE_CHARS:,} (split it into several records)")
    none = [None] * len(tokens)
    lemmas, senses, tags = (extras.get(key, none) for key in ("lemma", "sense", "pos"))
    out, pos = [], 0
    for i, tok in enumerate(tokens):
        out.append(Token(start=pos, end=pos + len(tok), word=tok, lemma=lemmas[i], sense=senses[i], pos=tags[i]))
        pos += len(tok) + 1
    section = record.get("doc", record.get("id"))
    return Sentence(text=text, line=number, section=None if section is None else str(section), tokens=out)


def json_object(line: str, where: str) -> dict:
    """One JSON-lines record, which must be an object; `where` is 'file:line' for the message."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: invalid JSON ({exc.msg})") from None
    except RecursionError:  # found by tests/test_fuzz.py: "[[[[..." deeper than Python's stack
        raise CorpusError(f"{where}: invalid JSON (nested too deeply)") from None
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: each line must be a JSON object")
    return record


def _jsonl(path: Path, opts: ReadOptions) -> Iterator[Sentence]:
    for number, line in _lines(path, opts):
        if not line.strip():
            continue
        record = json_object(line, f"{path}:{number}")
        if "tokens" in record:
            yield _pretokenised(record, path, number)
            continue
        if opts.text_field not in record:
            raise CorpusError(
                f"{path}:{number}: no field {opts.text_field!r} (fields: {', '.join(record)}; use --text-field)"
            )
        text = record[opts.text_field]
        if not isinstance(text, str):
            raise CorpusError(f"{path}:{number}: field {opts.text_field!r} is not a string")
        section = record.get("doc", record.get("id"))
        for _, sent in split_sentences(" ".join(text.split())):
            yield Sentence(text=sent, line=number, section=None if section is None else str(section))


def _table(path: Path, opts: ReadOptions, delimiter: str) -> Iterator[Sentence]:
    lines = _lines(path, opts)
    numbers: list[int] = []

    def feed() -> Iterator[str]:
        for number, line in lines:
            numbers.append(number)
            yield line + "\n"

    reader = csv.DictReader(feed(), delimiter=delimiter)
    try:
        fields = reader.fieldnames
    except csv.Error as exc:
        raise CorpusError(f"{path}:1: {exc}") from None
    if not fields:
        return
    if opts.text_column not in fields:
        raise CorpusError(f"{path}:1: no column {opts.text_column!r} (columns: {', '.join(fields)}; use --text-column)")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CorpusError(f"{path}:{numbers[-1] if numbers else 1}: {exc}") from None
        text = row.get(opts.text_column) or ""
        number = reader.line_num
        section = row.get("doc") or row.get("id")
        for _, sent in split_sentences(" ".join(text.split())):
            yield Sentence(text=sent, line=number, section=section)


def read_sentences(path: Path, opts: ReadOptions | None = None) -> Iterator[Sentence]:
    """Stream the sentences of one file, whatever its format."""
    opts = opts or ReadOptions()
    fmt = file_format(path)
    if fmt == "txt":
        yield from _txt(path, opts)
    elif fmt == "jsonl":
        yield from _jsonl(path, opts)
    elif fmt == "csv":
        yield from _table(path, opts, ",")
    elif fmt == "tsv":
        yield from _table(path, opts, "\t")
    else:
        raise CorpusError(f"{path}: unsupported file type")
