"""Reading corpora: files of several formats streamed as sentences with source line numbers."""

from __future__ import annotations

import bisect
import csv
import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from senseindex.errors import CorpusError
from senseindex.text.conllu import read_conllu
from senseindex.text.sentences import MAX_SENTENCE_CHARS, split_sentences
from senseindex.text.source import ReadOptions, Sentence, Token, lines, open_binary
from senseindex.text.tei import read_tei
from senseindex.text.vertical import read_vertical

__all__ = ["DEFAULT_INCLUDE", "FORMATS", "ReadOptions", "Sentence", "Token", "file_format", "file_hash",
           "json_object", "open_binary", "path_metadata", "read_sentences", "resolve_sources"]

FORMATS = ("txt", "jsonl", "csv", "tsv", "conllu", "vrt", "xml")
EXTENSIONS = {"conll": "conllu", "vert": "vrt"}  # other names of the same formats
DEFAULT_INCLUDE = tuple(f"*.{ext}{gz}" for gz in ("", ".gz") for ext in (*FORMATS, *EXTENSIONS))

def file_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    ext = EXTENSIONS.get(ext, ext)
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
                raise CorpusError(f"{p}: unsupported file type (use .txt, .jsonl, .csv, .tsv, .conllu, .vrt, .xml, "
                                  "or .gz of these)")
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

    for number, line in lines(path, opts):
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
    given = record.get("text")
    spans = _given_spans(record, given, len(tokens), path, number) if isinstance(given, str) else None
    text = given if spans else " ".join(tokens)
    if len(text) > MAX_SENTENCE_CHARS:
        raise CorpusError(f"{path}:{number}: a pre-tokenised sentence of {len(text):,} characters is longer than "
                          f"{MAX_SENTENCE_CHARS:,} (split it into several records)")
    none = [None] * len(tokens)
    lemmas, senses, tags = (extras.get(key, none) for key in ("lemma", "sense", "pos"))
    out, pos = [], 0
    for i, tok in enumerate(tokens):
        start, end = spans[i] if spans else (pos, pos + len(tok))
        out.append(Token(start=start, end=end, word=tok, lemma=lemmas[i], sense=senses[i], pos=tags[i]))
        pos += len(tok) + 1
    section = record.get("doc", record.get("id"))
    return Sentence(text=text, line=number, section=None if section is None else str(section), tokens=out)


def _given_spans(record: dict, text: str, n: int, path: Path, number: int) -> list[tuple[int, int]] | None:
    """Where each token lies in a record's `text`: its "spans" ([start, end] per token, as
    export-corpus writes them: a multiword token's words may share one), else each token found
    in order; None when they are not all found (the tokens are then joined by spaces)."""
    spans = record.get("spans")
    if spans is not None:
        ok = isinstance(spans, list) and len(spans) == n and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, int) for x in p) and 0 <= p[0] < p[1] <= len(text)
            for p in spans)
        if not ok:
            raise CorpusError(f"{path}:{number}: 'spans' must be a [start, end] within 'text' for each token")
        return [(a, b) for a, b in spans]
    out, pos = [], 0
    for tok in record["tokens"]:
        at = text.find(tok, pos)
        if at < 0 or text[pos:at].strip():
            return None
        out.append((at, at + len(tok)))
        pos = at + len(tok)
    return out if not text[pos:].strip() else None


def _record_meta(record: dict, names: tuple[str, ...]) -> dict | None:
    """The metadata fields a record carries: those named (--meta-field), and those of an object
    field "meta" (as export-corpus writes them)."""
    own = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    meta = {**own, **{n: record[n] for n in names if record.get(n) not in (None, "")}}
    return {k: v if isinstance(v, (int, float, str)) and not isinstance(v, bool) else str(v)
            for k, v in meta.items()} or None


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
    for number, line in lines(path, opts):
        if not line.strip():
            continue
        record = json_object(line, f"{path}:{number}")
        meta = _record_meta(record, opts.meta_fields)
        if "tokens" in record:
            sent = _pretokenised(record, path, number)
            sent.meta = meta
            yield sent
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
            yield Sentence(text=sent, line=number, section=None if section is None else str(section), meta=meta)


def _table(path: Path, opts: ReadOptions, delimiter: str) -> Iterator[Sentence]:
    rows = lines(path, opts)
    numbers: list[int] = []

    def feed() -> Iterator[str]:
        for number, line in rows:
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
    missing = [m for m in opts.meta_fields if m not in fields]
    if missing:
        raise CorpusError(f"{path}:1: no metadata column {', '.join(map(repr, missing))} (columns: {', '.join(fields)})")
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
        meta = _record_meta(row, opts.meta_fields)
        for _, sent in split_sentences(" ".join(text.split())):
            yield Sentence(text=sent, line=number, section=section, meta=meta)


READERS = {"conllu": read_conllu, "vrt": read_vertical, "xml": read_tei}


def read_sentences(path: Path, opts: ReadOptions | None = None) -> Iterator[Sentence]:
    """Stream the sentences of one file, whatever its format, with the metadata its path gives."""
    opts = opts or ReadOptions()
    fmt = file_format(path)
    if fmt == "txt":
        sentences = _txt(path, opts)
    elif fmt == "jsonl":
        sentences = _jsonl(path, opts)
    elif fmt in ("csv", "tsv"):
        sentences = _table(path, opts, "," if fmt == "csv" else "\t")
    elif fmt in READERS:
        sentences = READERS[fmt](path, opts)
    else:
        raise CorpusError(f"{path}: unsupported file type")
    from_path = path_metadata(path, opts.meta_path) if opts.meta_path else None
    if not from_path:
        yield from sentences
        return
    for sent in sentences:
        sent.meta = {**from_path, **(sent.meta or {})}
        yield sent


def path_metadata(path: Path, pattern: str) -> dict[str, str] | None:
    """The {fields} of a path pattern matched against the path's last components
    ("{genre}/{year}-*.txt" on corpus/news/1994-07.txt gives genre news, year 1994); None when
    the path does not match. `*` and `?` match within one component."""
    parts = [p for p in pattern.replace("\\", "/").split("/") if p]
    if not parts:
        return None
    rx = []
    for piece in re.split(r"(\{[A-Za-z_]\w*\}|\*|\?)", "/".join(parts)):
        if piece.startswith("{"):
            rx.append(f"(?P<{piece[1:-1]}>[^/]+?)")
        elif piece == "*":
            rx.append("[^/]*")
        elif piece == "?":
            rx.append("[^/]")
        else:
            rx.append(re.escape(piece))
    tail = "/".join(Path(path).parts[-len(parts):])
    try:
        m = re.fullmatch("".join(rx), tail)
    except re.error as exc:
        raise CorpusError(f"--meta-path {pattern!r}: {exc}") from None
    return m.groupdict() if m else None
