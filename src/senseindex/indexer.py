"""The indexing pipeline: validate, stream, encode in length-sorted batches, commit in chunks."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from senseindex.encoding.glove import Glove
from senseindex.errors import CorpusError
from senseindex.storage import checksums
from senseindex.storage.db import utc_now
from senseindex.storage.metadata import safe_field
from senseindex.storage.store import Chunk, Store
from senseindex.storage.vectors import write_faiss
from senseindex.text.corpus import (
    DEFAULT_INCLUDE,
    ReadOptions,
    Sentence,
    file_format,
    file_hash,
    read_sentences,
    resolve_sources,
)
from senseindex.text.tagging import tag_spans
from senseindex.text.words import count_tokens, find_words, hyphen_parts, is_stopword, lemmatize

Progress = Callable[[int, int], None]  # (sentences, words) done since the last call


@dataclass
class PlannedFile:
    path: Path
    sha256: str
    sentences: int
    doc_id: int | None = None
    done_before: int = 0


@dataclass
class IndexReport:
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    documents: int = 0
    sentences: int = 0
    occurrences: int = 0
    labels: int = 0
    seconds: float = 0.0
    gold_file: dict[str, int] | None = None  # what a gold-labels file attached
    replaced: list[dict] = field(default_factory=list)  # old versions replaced (labels carried/orphaned)
    metadata_file: dict | None = None  # what a metadata TSV set


@dataclass
class _Pending:
    doc_id: int
    ordinal: int
    sentence: Sentence
    last: bool


def read_plan(sources: Iterable[str | Path], opts: ReadOptions, include: Iterable[str] = DEFAULT_INCLUDE,
              store: Store | None = None) -> tuple[list[PlannedFile], list[str]]:
    """(files to index, files already indexed): every file to index is read once here, before
    anything is written, so bad input fails naming its file and line. Each file is hashed once;
    its content hash is what makes a re-run skip it (fully indexed) or resume it (partly)."""
    todo, skipped = [], []
    for path in resolve_sources(sources, include):
        item = PlannedFile(path, file_hash(path), 0)
        done = _done_before(store, item)
        if done is None:
            skipped.append(str(path))
            continue
        item.doc_id, item.done_before = done
        item.sentences = sum(1 for _ in read_sentences(path, opts))
        todo.append(item)
    return todo, skipped


def _done_before(store: Store | None, item: PlannedFile) -> tuple[int | None, int] | None:
    """(document id, sentences committed) of a partly indexed file, (None, 0) for a new one,
    None when the same content is fully indexed."""
    if store is None:
        return None, 0
    doc = next(store.db["documents"].rows_where("sha256 = ?", [item.sha256], limit=1), None)
    if doc is None:
        return None, 0
    return None if doc["status"] == "done" else (doc["id"], doc["sentences"])


def against_index(store: Store, planned: list[PlannedFile]) -> tuple[list[PlannedFile], list[str]]:
    """Re-check a plan against the index under the write lock (another writer may have indexed
    some of its files since): database look-ups only, nothing is read again."""
    todo, skipped = [], []
    for item in planned:
        done = _done_before(store, item)
        if done is None:
            skipped.append(str(item.path))
        else:
            todo.append(PlannedFile(item.path, item.sha256, item.sentences, *done))
    return todo, skipped


Span = tuple[int, int, str, str, str | None, str | None]  # start, end, word, lemma, sense, pos


def sentence_spans(sentences: list[Sentence], all_words: bool) -> list[list[Span]]:
    """The occurrences of each sentence: plain text is tagged (part of speech and lemma in
    context, all sentences in one pass); pre-tokenised tokens keep their own annotations."""
    out: list[list[Span] | None] = [None] * len(sentences)
    _tag_tokens([s for s in sentences if s.tokens is not None and s.needs_tags])
    plain = [i for i, s in enumerate(sentences) if s.tokens is None]
    for i, sp in zip(plain, _tagged_spans([sentences[i].text for i in plain], all_words), strict=True):
        out[i] = sp
    for i, sent in enumerate(sentences):
        if sent.tokens is not None:
            out[i] = _token_spans(sent, all_words)
    return out  # type: ignore[return-value]


def _tagged_spans(texts: list[str], all_words: bool) -> list[list[Span]]:
    """Words of plain text with their tags; a hyphenated word is one occurrence and each part
    (not a stopword, two letters or more) another, so "ringing" also finds "change-ringing"."""
    words = []
    for text in texts:
        found = []
        for s, e, w in find_words(text, all_words=True):
            found.append((s, e, w))
            found.extend(p for p in hyphen_parts(s, w) if len(p[2]) > 1 and not is_stopword(p[2]))
        words.append(found)
    tags = tag_spans(texts, [[(s, e) for s, e, _ in ws] for ws in words])
    return [[(s, e, w, t.lemma, None, t.pos) for (s, e, w), t in zip(ws, ts, strict=True)
             if all_words or not is_stopword(w, t.upos)] for ws, ts in zip(words, tags, strict=True)]


def _tag_tokens(sentences: list[Sentence]) -> None:
    """Tokens of a corpus that brings no lemmas or tags (a VRT of words only) get the tagger's,
    read in their sentence: the tagger runs only where the corpus has none."""
    if not sentences:
        return
    tags = tag_spans([s.text for s in sentences], [[(t.start, t.end) for t in s.tokens or ()] for s in sentences])
    for sent, ts in zip(sentences, tags, strict=True):
        for tok, tag in zip(sent.tokens or (), ts, strict=True):
            tok.lemma, tok.pos, tok.upos = tag.lemma, tag.pos or None, tag.upos
        sent.needs_tags = False


def _token_spans(sentence: Sentence, all_words: bool) -> list[Span]:
    out = []
    for t in sentence.tokens or ():
        alpha = t.word.replace(" ", "").replace("-", "").replace("'", "").replace("_", "").replace(".", "")
        if not alpha.isalpha() and t.sense is None:
            continue  # a sense-tagged token is kept whatever it looks like ("Mr.", "U. S.", "1960")
        if t.sense is None and not all_words and is_stopword(t.word, t.upos):
            continue
        lemma = (t.lemma or lemmatize(t.word)).lower()
        out.append((t.start, t.end, t.word, lemma, t.sense, t.pos))
    return out


# A chunk ends at `chunk_sentences` sentences or at this many characters, whichever comes first:
# 1,024 ordinary sentences are about 110,000-130,000 characters; long ones (up to MAX_SENTENCE_CHARS each)
# would otherwise make a chunk, and the memory of encoding it (about 15 KB an occurrence), up to 80
# times larger.
CHUNK_CHARS = 131_072


class Indexer:
    def __init__(self, store: Store, encoder, glove: Glove, all_words: bool = False,
                 chunk_sentences: int = 1024, chunk_chars: int = CHUNK_CHARS, parse: bool = False) -> None:
        self.parse = parse
        self.store = store
        self.encoder = encoder
        self.glove = glove
        self.all_words = all_words
        self.chunk_sentences = chunk_sentences
        self.chunk_chars = chunk_chars

    def run(self, planned: list[PlannedFile], opts: ReadOptions, progress: Progress | None = None) -> IndexReport:
        report = IndexReport(files=len(planned))
        start = time.perf_counter()
        try:
            buffer: list[_Pending] = []
            chars = 0
            for item in start_documents(self.store, planned, report):
                for ordinal, sent in stream_sentences(item, opts):
                    buffer.append(_Pending(item.doc_id, ordinal, sent, ordinal == item.sentences))
                    chars += len(sent.text)
                    if len(buffer) >= self.chunk_sentences or chars >= self.chunk_chars:
                        self._commit(buffer, report, progress)
                        buffer, chars = [], 0
            if buffer:
                self._commit(buffer, report, progress)
        finally:
            save_vocab_index(self.store, self.glove)
            report.seconds = time.perf_counter() - start
        return report

    def _commit(self, chunk: list[_Pending], report: IndexReport, progress: Progress | None) -> None:
        rows = encode_chunk([p.sentence for p in chunk], self.encoder, self.glove, self.all_words, self.parse)
        documents: dict[int, tuple[int, bool]] = {}
        for p in chunk:
            documents[p.doc_id] = (p.ordinal, documents.get(p.doc_id, (0, False))[1] or p.last)
        rows.sentences = [(p.doc_id, p.ordinal, *row) for p, row in zip(chunk, rows.sentences, strict=True)]
        rows.documents = documents
        commit_chunk(self.store, rows, report, progress)

    def _save_vocab_index(self) -> None:
        save_vocab_index(self.store, self.glove)


def start_documents(store: Store, planned: list[PlannedFile], report: IndexReport) -> Iterator[PlannedFile]:
    """The planned files that have sentences to index, each with its document row (a new file's
    row is inserted, as partial, when it is reached; an empty file is marked done at once)."""
    db = store.db
    for item in planned:
        if item.doc_id is None:
            with db.conn:
                item.doc_id = db["documents"].insert({
                    "path": str(item.path), "sha256": item.sha256, "format": file_format(item.path),
                    "status": "partial", "sentences": 0, "added": utc_now(),
                }).last_pk
            report.documents += 1
        if item.sentences == 0:
            with db.conn:
                db["documents"].update(item.doc_id, {"status": "done"})
            continue
        yield item


def stream_sentences(item: PlannedFile, opts: ReadOptions) -> Iterator[tuple[int, Sentence]]:
    """(ordinal, sentence) of a planned file past what an earlier run committed; a file whose
    sentence count changed since it was planned is an error, not silently different data."""
    for ordinal, sent in enumerate(read_sentences(item.path, opts), 1):
        if ordinal > item.sentences:
            raise CorpusError(f"{item.path}: the file changed while it was being indexed")
        if ordinal > item.done_before:
            yield ordinal, sent


def sentence_extra(sentence: Sentence) -> dict | None:
    """What a sentence row carries beside its text: its text's metadata, its token count and the
    corpus's own token layout. Tokens are counted by the one rule frequencies use
    (text.words.count_tokens: words and numbers, punctuation excluded), so a text's count
    (`texts.tokens`, senses over metadata) and its document's (`documents.tokens`, frequency per
    million) always agree."""
    extra = {"tokens": count_tokens(sentence.text)}
    if sentence.meta:
        extra["meta"] = {safe_field(k): v for k, v in sentence.meta.items()}
    if sentence.layout:
        extra["layout"] = sentence.layout
    return extra


def encode_chunk(sentences: Sequence[Sentence], encoder, glove: Glove, all_words: bool, parse: bool = False) -> Chunk:
    """The one way sentences become index rows: word spans and lemmas, contextual vectors, static
    sentence vectors, gold senses and vocabulary counts. Sentence rows are (line, section, text):
    the caller prefixes (document id, ordinal) and sets `documents`, since only it knows them
    (a distributed worker does not write the index)."""
    spans = sentence_spans(list(sentences), all_words)
    vectors = encoder.word_vectors([s.text for s in sentences], [[(a, b) for a, b, *_ in sp] for sp in spans])
    occurrences, gold, vocab = [], [], Counter()
    for i, sp in enumerate(spans):
        for s, e, w, lemma, sense, pos in sp:
            if sense:
                gold.append((len(occurrences), sense))
            occurrences.append((i, s, e, pos, lemma))
            vocab[w.lower()] += 1
    deps = []
    if parse:
        from senseindex.text.parsing import conllu_relations, span_relations

        rels: list = [conllu_relations(s.layout, [(a, b) for a, b, *_ in sp])
                      if s.layout and s.layout.get("f") == "conllu" else None for s, sp in zip(sentences, spans, strict=True)]
        todo = [i for i, r in enumerate(rels) if r is None]  # the parser reads only what the corpus left unparsed
        for i, r in zip(todo, span_relations([sentences[i].text for i in todo],
                                             [[(a, b) for a, b, *_ in spans[i]] for i in todo]), strict=True):
            rels[i] = r
        j = 0
        for per_sentence in rels:
            for found in per_sentence:
                deps.extend((j, rel, lemma) for rel, lemma in found)
                j += 1
    return Chunk(
        sentences=[(s.line, s.section, s.text, sentence_extra(s)) for s in sentences],
        static=np.stack([glove.mean_vector(w for _, _, w, *_ in sp) for sp in spans]),
        occurrences=occurrences,
        vectors=np.concatenate([v for v in vectors if len(v)]) if occurrences else np.zeros((0, encoder.dim)),
        gold=gold, vocab=vocab, in_glove=glove.__contains__, deps=deps)


def commit_chunk(store: Store, chunk: Chunk, report: IndexReport, progress: Progress | None) -> None:
    """Append one chunk (one transaction), run the store's upkeep (codec training, segment
    sorting), count it in the report and tell the progress callback."""
    store.append(chunk)
    store.maintain()
    report.sentences += len(chunk.sentences)
    report.occurrences += len(chunk.occurrences)
    report.labels += len(chunk.gold)
    if progress:
        progress(len(chunk.sentences), len(chunk.occurrences))


def save_vocab_index(store: Store, glove: Glove) -> int:
    """Type vectors of the corpus vocabulary (GloVe), for static nearest-word lists; derived from
    the vocab table alone, so `repair` rebuilds it the same way. Returns the words written."""
    import faiss

    rows = store.db.execute("select id, word from vocab where in_glove = 1").fetchall()
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(glove.dim))
    if rows:
        vecs = np.stack([glove.vector(w) for _, w in rows]).astype(np.float32)
        index.add_with_ids(vecs, np.array([i for i, _ in rows], dtype=np.int64))
    tmp = store.vocab_faiss_path.with_suffix(".tmp")
    write_faiss(index, tmp)
    checksums.replace_file(store.db, tmp, store.vocab_faiss_path)
    store._vocab_index = None
    return len(rows)
