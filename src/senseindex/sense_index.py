"""SenseIndex: the one entry point for every workflow; the CLI only parses, calls one method, renders.

A Python user gets every guarantee the command line gives: input is read and checked before an
index is created or written, one writer at a time, interrupted work resumes, labels are imported
all or nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from senseindex.encoding.glove import GLOVE_NAME, Glove, load_glove, not_indexed
from senseindex.encoding.weights import resolve_model, same_model
from senseindex.errors import CorpusError, SenseIndexError
from senseindex.storage.labels import SOURCES
from senseindex.storage.store import Store, resolve_index_path
from senseindex.text.corpus import DEFAULT_INCLUDE, ReadOptions
from senseindex.text.tagging import LEMMA_RULES, Tag, form_lemmas, indexed_tag, tagger_name
from senseindex.text.words import lemmatize

if TYPE_CHECKING:
    from senseindex.distributed import RayEngine
    from senseindex.encoding.encoder import WordEncoder
    from senseindex.indexer import IndexReport, PlannedFile
    from senseindex.senses.concordance import Concordance
    from senseindex.senses.induction import SenseReport
    from senseindex.senses.knn import Prediction
    from senseindex.senses.review_queue import ReviewBatch
    from senseindex.senses.search import Hit, Target
    from senseindex.storage.check import CheckReport

# two tiers: PQ16 codes (16 bytes) scanned by every search, SQ4 codes (384 bytes for 768 dimensions,
# mean cosine 0.99 to the exact vector) read by clusters, centroids, k-NN votes and re-ranking
# (docs/benchmarks/28-codec.md; the previous default, PQ64 alone, kept a mean cosine of 0.75)
DEFAULT_CODEC = "PQ16,Refine(SQ4)"
QUERY_VECTOR_CACHE = 256  # query vectors kept per SenseIndex (a few KB each)
Progress = Callable[[int, int], None]  # (sentences, words) committed since the last call


class SenseIndex:
    """An index of word occurrences, each with a contextual vector, searchable by sense.

    Open an existing index with `open`, or `open_or_create` one that `add` creates on its first
    successful read of the input. The encoder is loaded on first use (searching and labelling
    need it; info, senses, labels and plots do not)."""

    def __init__(self, store: Store | None, encoder: WordEncoder | None = None, device: str = "auto",
                 precision: str = "auto", *, path: str | Path | None = None, new: dict | None = None,
                 runtime: str = "auto", query_encoder: WordEncoder | None = None) -> None:
        self._store = store
        self._encoder = encoder
        self._query_encoder = query_encoder or encoder  # a given model encodes queries too
        self.device = device
        self.precision = precision
        self.runtime = runtime  # torch, onnx, openvino or auto (encoding.runtimes.choose_runtime)
        self._encoder_lock = threading.RLock()
        self._path = store.path if store is not None else Path(path)
        self._new = new or {}  # model, layer and codec of an index that `add` has yet to create
        self._query_vectors: dict[tuple[str, int, int], Any] = {}  # see query_vector

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, model: str | None = None, device: str = "auto", precision: str = "auto",
             encoder: WordEncoder | None = None, runtime: str = "auto",
             query_encoder: WordEncoder | None = None) -> SenseIndex:
        """Open an existing index; `model` or `encoder`, when given, must be the index's model
        (`query_encoder`: a model loaded already for searches' queries, see `query_encoder`).

        Any runtime can search an index built with another (their vectors agree to within the
        bounds in docs/runtimes.md); a different precision asked for than the index's is warned
        about."""
        store = Store.open(path)
        built = store.manifest["model"]
        asked = encoder.name if encoder is not None else (resolve_model(model).name if model else None)
        if asked and not same_model(asked, built):
            raise SenseIndexError(f"{store.path} was built with {built}; it cannot be searched with {model or asked}")
        return cls(store, encoder, device, precision, runtime=runtime, query_encoder=query_encoder)

    @classmethod
    def open_or_create(cls, path: str | Path, model: str | None = None, layer: str | None = None,
                       device: str = "auto", precision: str = "auto", codec: str | None = None,
                       encoder: WordEncoder | None = None, keep_vectors: str | None = None,
                       train_rows: int | None = None, tail_max: int | None = None,
                       runtime: str = "auto") -> SenseIndex:
        """Open the index at `path`, or prepare a new one there (written by the first `add`).

        `codec` compresses occurrence vectors once the index holds `train_rows` of them (exact
        float16 until then; "fp16" keeps them exact). Default: DEFAULT_CODEC, or exact float16
        for a model whose dimensions it cannot split. `keep_vectors` ("fp16" or "fp32") also keeps
        exact vectors, for re-ranking and re-training. `tail_max` is how many new vectors are
        kept unsorted before they are sorted into a segment."""
        path = resolve_index_path(path)
        if Store.is_index(path):
            si = cls.open(path, model, device, precision, encoder, runtime)
            if layer and str(layer) != si.store.manifest["layer"]:
                raise SenseIndexError(f"{path} was built from layer {si.store.manifest['layer']}, not {layer}")
            return si
        Store.check_new(path)
        if keep_vectors not in (None, "", "fp16", "fp32"):
            raise SenseIndexError(f"--keep-vectors {keep_vectors!r}: use fp16 or fp32")
        return cls(None, encoder, device, precision, path=path, runtime=runtime,
                   new={"model": model, "layer": layer or "last", "codec": codec, "keep_vectors": keep_vectors,
                        "train_rows": train_rows, "tail_max": tail_max})

    @property
    def path(self) -> Path:
        return self._path

    @property
    def exists(self) -> bool:
        """False for a prepared index that `add` has not created yet."""
        return self._store is not None or Store.is_index(self._path)

    @property
    def store(self) -> Store:
        """The index on disk; a prepared new index is created here, on first need."""
        if self._store is None:
            if Store.is_index(self._path):  # made by another process since open_or_create
                self._store = Store.open(self._path)
            else:
                self._store = Store.create(self._path, self._new_manifest())
        return self._store

    def close(self) -> None:
        """Close the index's database connection (this SenseIndex is not used afterwards)."""
        if self._store is not None:
            self._store.close()

    def _new_manifest(self) -> dict:
        from senseindex.encoding.encoder import vector_identity
        from senseindex.storage.vectors import check_codec

        enc, codec = self.encoder, self._new["codec"]
        if codec is None:
            try:
                check_codec(enc.dim, DEFAULT_CODEC)
                codec = DEFAULT_CODEC
            except SenseIndexError:
                codec = "fp16"
        check_codec(enc.dim, codec)
        return {**vector_identity(enc), "dimensions": enc.dim, "static_model": GLOVE_NAME,
                "static_dimensions": load_glove().dim, "lemmatiser": tagger_name(), "codec": codec,
                "keep_vectors": self._new.get("keep_vectors") or "", "max_length": enc.max_length,
                **{k: str(v) for k, v in self._new.items() if k in ("train_rows", "tail_max") and v}}

    @property
    def encoder(self) -> WordEncoder:
        """The model, loaded on first use (the one the index was built with)."""
        with self._encoder_lock:  # `preload` may be loading it on another thread
            if self._encoder is None:
                from senseindex.encoding.encoder import load_encoder

                if self._store is None and not Store.is_index(self._path):
                    model, layer = self._new["model"], self._new["layer"]
                else:
                    model, layer = self.store.manifest["model"], self.store.manifest["layer"]
                encoder = load_encoder(model, layer, self.device, self.precision, self.runtime)
                if self._store is not None or Store.is_index(self._path):
                    warn_precision(self.store.manifest, encoder)
                self._encoder = encoder
        return self._encoder

    @property
    def query_encoder(self) -> WordEncoder:
        """The model that encodes a search's query: the index's (`encoder`), except that with no
        precision asked for, the queries of an index OpenVINO built in bf16 or fp32 run in
        OpenVINO's int8 on a CPU with int8 dot products (`runtimes.query_precision`; measured in
        docs/runtimes.md: the same hits, a quicker query). Indexing, labels and glosses keep the
        index's precision. Should int8 not load, the index's own model answers."""
        with self._encoder_lock:
            if self._query_encoder is None:
                self._query_encoder = self._load_query_encoder()
        return self._query_encoder

    def _query_precision(self) -> str | None:
        """The precision queries run at when it is not the index's own (`runtimes.query_precision`)."""
        from senseindex.encoding.runtimes import query_precision

        m = self.store.manifest
        return query_precision(m.get("runtime", "torch"), m.get("precision", ""), self.precision, self.runtime,
                               self.device)

    def _load_query_encoder(self) -> WordEncoder:
        if self._store is None and not Store.is_index(self._path):
            return self.encoder
        precision = self._query_precision()
        if precision is None:
            return self.encoder
        from senseindex.encoding.encoder import load_encoder

        m = self.store.manifest
        try:
            return load_encoder(m["model"], m["layer"], self.device, precision, "openvino")
        except (SenseIndexError, OSError):  # the export cannot be made here (e.g. a read-only cache)
            return self.encoder

    def preload(self, queries: bool = False) -> None:
        """Start loading the model (with `queries`, the one that encodes queries) on a background
        thread and return at once: a query's tagger (spaCy) loads meanwhile, and a cold search
        waits for the slower of the two, not both. A failure there is left for `encoder` to raise
        where the model is needed."""
        if (self._query_encoder if queries else self._encoder) is None:
            def load() -> None:
                with contextlib.suppress(Exception):  # raised again, in the caller's thread, by `encoder`
                    self.query_encoder if queries else self.encoder  # noqa: B018 (loading is the point)

            threading.Thread(target=load, name="senseindex-preload", daemon=True).start()

    @property
    def glove(self) -> Glove:
        return load_glove()

    # --- building ----------------------------------------------------------------
    def add(self, sources: Iterable[str | Path], options: ReadOptions | None = None,
            include: Sequence[str] = DEFAULT_INCLUDE, all_words: bool = False, gold: str | Path | None = None,
            progress: Progress | None = None, on_plan: Callable[[list[PlannedFile], list[str]], None] | None = None,
            chunk_sentences: int = 1024, engine: RayEngine | None = None, parse: bool = False,
            metadata: str | Path | None = None) -> IndexReport:
        """Index files (.txt, .jsonl, .csv, .tsv, .gz of these, folders of them).

        Every file is read and checked, and hashed once, before the index is created or touched;
        files whose content is already indexed are skipped and a partly indexed one resumes.
        `gold` attaches gold senses from a TSV (file, line, word, sense), also checked first.
        `on_plan(todo, skipped)` is called once before indexing starts (for a progress bar).
        `engine` (a `distributed.RayEngine`) encodes on Ray workers instead of in this process;
        the index it writes is the same. `parse` stores each occurrence's grammatical relations
        (spaCy's parser; for `word_sketch`). `metadata` is a TSV of document metadata (see
        `import_metadata`), checked before anything is written and applied after indexing."""
        from senseindex.indexer import Indexer, against_index, read_plan
        from senseindex.storage.labels import read_gold_tsv
        from senseindex.storage.metadata import apply_sidecar, read_sidecar

        options = options or ReadOptions()
        sources = list(sources)
        existing = self._store if self._store is not None else (
            Store.open(self._path) if Store.is_index(self._path) else None)
        if parse and engine is not None:
            raise SenseIndexError("--parse runs in this process only (not with --engine ray)")
        todo, skipped = read_plan(sources, options, include, existing)
        gold_rows = read_gold_tsv(gold) if gold else None
        sidecar = read_sidecar(metadata)[2] if metadata else None
        if not skipped and not sum(p.sentences for p in todo):
            raise CorpusError("no text found in " + ", ".join(map(str, sources)) + " (empty corpus)")
        with self.store.lock():
            todo, more = against_index(self.store, todo)  # another writer may have finished some
            skipped += more
            if on_plan:
                on_plan(todo, skipped)
            if engine is None:
                report = Indexer(self.store, self.encoder, self.glove, all_words, chunk_sentences,
                                 parse=parse).run(todo, options, progress)
            else:
                report = engine.run(self.store, todo, options, all_words, self.glove, progress)
            report.skipped = skipped
            report.replaced = self._replace_old_versions(todo)
            if gold_rows is not None:
                report.gold_file = self._apply_gold(gold_rows)
            if sidecar is not None:
                report.metadata_file = apply_sidecar(self.store.db, sidecar)
            self.store.maintain()
        return report

    def _replace_old_versions(self, done: list[PlannedFile]) -> list[dict]:
        """A path indexed again with new content replaces its old version (labels carried)."""
        from senseindex.storage.documents import replace_document

        out = []
        db = self.store.db
        for item in done:
            new = db.execute("select id from documents where sha256 = ? and status = 'done'", [item.sha256]).fetchone()
            if new is None:
                continue
            for (old,) in db.execute("select id from documents where path = ? and sha256 != ? and status = 'done'",
                                     [str(item.path), item.sha256]).fetchall():
                out.append(replace_document(db, old, new[0]))
        return out

    def remove(self, documents: Sequence[str]) -> dict:
        """Remove documents (a stored path or its last components): their sentences, occurrences
        and vectors. Labels on them are kept in `labels_orphaned`; vectors are dropped from disk by
        compaction (automatic when more than 20% of the rows are removed)."""
        from senseindex.storage.documents import find_documents, remove_document

        with self.store.lock():
            found = find_documents(self.store.db, list(documents))
            results = [remove_document(self.store.db, doc_id) for doc_id, _ in found]
            self.store.maintain()
        return {"removed": results, "documents": len(results),
                "occurrences": sum(r["occurrences"] for r in results),
                "labels_orphaned": sum(r["labels_orphaned"] for r in results)}

    def compact(self) -> dict:
        """Rewrite the vector files into one segment without removed rows (written beside the old
        files, then switched in one transaction: an interruption leaves the old files in use)."""
        with self.store.lock():
            return self.store.compact()

    @classmethod
    def upgrade(cls, path: str | Path, codec: str | None = None, progress: Progress | None = None,
                reencode: bool = False, device: str = "auto", precision: str = "auto",
                encoder: WordEncoder | None = None) -> dict:
        """Convert an index made by an earlier senseindex (format 1) to this format, in place,
        without re-encoding: its float32 vector log has the vectors. A current index moves to
        `codec` (without one: from a previous default, PQ64 alone, to DEFAULT_CODEC) where its
        stored vectors are faithful; else, with `reencode`, its vectors are re-encoded from the
        text with its model, and without, it is refused with the command that would do it."""
        from senseindex.storage.upgrade import upgrade

        path = resolve_index_path(path)
        si = cls(None, encoder, device, precision, path=path)
        return upgrade(path, codec, progress, DEFAULT_CODEC, reencode, lambda: si.encoder)

    @staticmethod
    def check(path: str | Path) -> CheckReport:
        """Verify every file of an index (checksums, structure, counts that must agree); writes nothing."""
        from senseindex.storage.check import check_index

        return check_index(resolve_index_path(path))

    @classmethod
    def repair(cls, path: str | Path, device: str = "auto", precision: str = "auto",
               encoder: WordEncoder | None = None, runtime: str = "auto") -> dict:
        """Rebuild what `check` finds damaged and can be derived (vector files re-encoded from the
        text with the index's model, the codec, static vectors, counts); refuse, changing nothing,
        when index.db itself is damaged. Labels are never dropped."""
        from senseindex.storage.repair import repair_index

        si = cls(None, encoder, device, precision, path=resolve_index_path(path), runtime=runtime)
        return repair_index(si.path, lambda: si.encoder, load_glove)

    def labels_orphaned(self) -> list[dict]:
        """Labels whose occurrence was removed or changed, with their sentence and the reason."""
        cur = self.store.db.execute("select * from labels_orphaned order by id")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def import_gold(self, path: str | Path) -> dict[str, int]:
        """Attach gold senses from a TSV of file, line, word, sense (checked whole before writing)."""
        from senseindex.storage.labels import read_gold_tsv

        rows = read_gold_tsv(path)
        with self.store.lock():
            return self._apply_gold(rows)

    def _apply_gold(self, rows) -> dict[str, int]:
        from senseindex.storage.labels import apply_gold

        return apply_gold(self.store.db, rows)

    # --- searching ---------------------------------------------------------------
    def target(self, query: str, word: str | None = None, lemma: str | None = None) -> Target:
        """The word to search for: the [marked] one (or words: [took place]), else `word`, else the
        query's rarest indexed word; tagged in the query. `lemma` overrides its lemma."""
        from senseindex.senses.search import parse_target

        return parse_target(query, word, self.store.lemma_count, lemma, self._indexed_tag)

    def _indexed_tag(self, form: str) -> Tag | None:
        """A marked word's tag from how this index tagged its form elsewhere, where that settles
        it: a cold search then never loads the tagger (`tagging.indexed_tag`)."""
        return indexed_tag(form, self.store.form_tags(form, form_lemmas(form)))

    def require_indexed(self, word: str, lemma: str | None = None) -> str:
        """The word's lemma, or the one "not in the index; nearest words" error."""
        lemma = lemma or lemmatize(word)
        if self.store.lemma_count(lemma) == 0:
            made_by = self.store.manifest.get("lemmatiser", "")
            if made_by and LEMMA_RULES not in made_by:  # an index from before the lexicon rules
                raise SenseIndexError(f"{word!r} (lemma {lemma!r}) is not in the index; its lemmas were made by "
                                      f"{made_by}, whose lemmas differ for some words: re-index it to search by "
                                      "this senseindex's lemmas")
            if " " in word.strip() and len(word.split()) > 1:
                raise SenseIndexError(f"{word!r} (lemma {lemma!r}) is not in the index: several words are one "
                                      "occurrence only where pre-tokenised input made them one (SemCor's "
                                      "'take place'); mark one word of it instead")
            raise not_indexed(self.store, self.glove, word)
        return lemma

    def _indexed_target(self, query: str, word: str | None, lemma: str | None) -> Target:
        target = self.target(query, word, lemma)
        if target.lemma_given:
            if self.store.lemma_count(target.lemma) == 0:
                raise SenseIndexError(f"--lemma {target.lemma!r} is not in the index")
        else:
            target.lemma = self.require_indexed(target.word, target.lemma)
        return target

    def search(self, query: str, k: int = 10, word: str | None = None, any_word: bool = False,
               static: bool = False, lemma: str | None = None, any_pos: bool = False,
               where: str | None = None) -> tuple[Target, list[Hit]]:
        """(target, hits): occurrences used in the same sense as the target in QUERY, best first.

        Occurrences tagged with another part of speech than the target's are left out unless
        `any_pos` (or the lemma has none in the target's). `static` ranks by the static GloVe
        view instead (the sentences' mean word vectors); `any_word` searches every occurrence,
        not only the target's lemma; `lemma` names the lemma to search; `where` keeps occurrences
        in a metadata selection (`year >= 1990`, `@subcorpus`)."""
        from senseindex.senses.search import contextual_search, static_search

        if not any_word and not static:  # one path with the concordance: filters before the cap
            c = self.concordance(query, word=word, lemma=lemma, any_pos=any_pos, where=where, k=k)
            return c.target, c.hits
        if where:
            raise SenseIndexError("--where filters a search of one lemma (not --any-word, --static or --compare)")
        target = self.target(query, word, lemma) if any_word else self._indexed_target(query, word, lemma)
        if static:
            return target, static_search(self.store, self.glove, target, k, any_word)
        return target, contextual_search(self.store, self.query_encoder, target, k, any_word=True)  # every word

    def query_vector(self, target: Target):
        """The target's contextual vector in its sentence, cached (LRU), so that sorting, filtering
        and paging the same query never runs the model again."""
        key = (target.text, target.start, target.end)
        cache = self._query_vectors
        vec = cache.pop(key, None)
        if vec is None:
            vec = self.query_encoder.word_vectors([target.text], [[(target.start, target.end)]])[0][0]
        cache[key] = vec
        while len(cache) > QUERY_VECTOR_CACHE:
            cache.pop(next(iter(cache)))
        return vec

    def concordance(self, query: str | None = None, *, cql: str | None = None, word: str | None = None,
                    lemma: str | None = None, any_pos: bool = False, label: str | None = None,
                    doc: str | None = None, documents: Iterable[int] | None = None,
                    sentences: Iterable[int] | None = None, where: str | None = None,
                    k: int | None = None) -> Concordance:
        """Every occurrence of the target's lemma (or every token a CQL query matches), filtered,
        then ranked by similarity to the target in QUERY, then capped at `k` (None: all).

        Without QUERY (a CQL query alone) the lines come in corpus order. Without `any_pos` an
        example's lemma keeps to the target's part of speech (`pos_left_out` says how many that
        leaves out); a CQL query says its part of speech itself. `label` (the label in effect, or
        "(none)"), `doc` (a document path), `documents` and `sentences` (allowed ids) and `where`
        (a metadata selection or `@subcorpus`) restrict the candidates before ranking. The counts (`total`,
        `matching`, `len(hits)`) are what the pages show as "N of M"."""
        from senseindex.senses.concordance import Filters, build, candidates
        from senseindex.senses.cql import parse

        tq = parse(cql) if cql else None
        if not (query and query.strip()) and tq is None:
            raise SenseIndexError("give an example sentence with the [word] to search for, or a CQL query")
        target = vec = None
        if query and query.strip():
            target = self.target(query, word, lemma) if tq else self._indexed_target(query, word, lemma)
            vec = self.query_vector(target)
        if tq is not None:
            lemmas = tq.lemmas(lambda: [r[0] for r in self.store.db.execute("select lemma from lemmas where count > 0")])
            cands = candidates(self.store, lemmas)
            sentences = self._within(lemmas, where, sentences)
            match = tq.matcher()
            extra = lambda c: match(c.attribute)  # noqa: E731
            following = [(lambda m: lambda c: m(c.attribute))(tq.matcher(e)) for e in tq.following]
            pos = None
        else:
            cands = candidates(self.store, [target.lemma])
            sentences = self._within([target.lemma], where, sentences)
            extra, following, pos = None, [], None if any_pos else target.pos_class
        filters = Filters(pos, label or None, doc or None,
                          None if documents is None else frozenset(int(i) for i in documents),
                          None if sentences is None else frozenset(int(i) for i in sentences))
        conc = build(self.store, target, vec, cands, filters, k, extra, following)
        if target is not None:
            target.pos_filter = conc.pos_filter
        return conc

    def _within(self, lemmas: Sequence[str], where: str | None, sentences: Iterable[int] | None):
        """The sentence ids a `where` selection allows among these lemmas' occurrences (bounded by
        the lemmas' size, not the corpus's), intersected with `sentences` when given."""
        from senseindex.storage.db import select_in

        sel = self.selection(where)
        if sel is None:
            return sentences
        allowed = {r[0] for r in select_in(
            self.store.db, "select distinct o.sentence_id from occ o join lemmas l on l.id = o.lemma_id "
            f"join sentences s on s.id = o.sentence_id where l.lemma in ({{ids}}) and coalesce(({sel.sql}), 0)",
            list(lemmas), after=sel.params)}
        return allowed if sentences is None else allowed & {int(i) for i in sentences}

    def indexed_words(self, text: str) -> list[dict]:
        """Each word of TEXT (a sentence) with its lemma in context and how many occurrences of that
        lemma the index holds: 0 for a stopword (never indexed) or a word the corpus lacks, which
        the search page shows as plain text rather than a link to a search that cannot succeed."""
        from senseindex.text.tagging import tag_spans
        from senseindex.text.words import find_words

        plain = text.replace("[", "").replace("]", "")
        words = find_words(plain, all_words=True)
        tags = tag_spans([plain], [[(s, e) for s, e, _ in words]])[0] if words else []
        return [{"word": w, "start": s, "end": e, "lemma": t.lemma, "occurrences": self.store.lemma_count(t.lemma)}
                for (s, e, w), t in zip(words, tags, strict=True)]

    def context(self, sentence_id: int, around: int = 2) -> dict:
        """A sentence with up to `around` sentences before and after it in its document."""
        db = self.store.db
        row = db.execute("select s.document_id, s.ordinal, d.path from sentences s join documents d "
                         "on d.id = s.document_id where s.id = ?", [int(sentence_id)]).fetchone()
        if row is None:
            raise SenseIndexError(f"no sentence {sentence_id} in {self.store.path}")
        doc_id, ordinal, path = row
        rows = db.execute("select id, ordinal, line, text from sentences where document_id = ? and ordinal between ? "
                          "and ? order by ordinal", [doc_id, ordinal - around, ordinal + around]).fetchall()
        return {"doc": path, "sentence_id": int(sentence_id),
                "sentences": [{"id": i, "line": line, "text": t, "current": i == int(sentence_id)}
                              for i, _, line, t in rows]}

    # --- metadata and subcorpora ------------------------------------------------------------
    def selection(self, where: str | None):
        """A `--where` expression parsed against this index's metadata fields (a
        `storage.where.Selection`), None for none; a bad expression is an error naming the column."""
        from senseindex.storage.metadata import selection

        return selection(self.store.db, where)

    def metadata_fields(self) -> list[dict]:
        """Each metadata field: its type (number, date, text), how many texts have it, its range."""
        from senseindex.storage.metadata import field_summary

        return field_summary(self.store.db)

    def import_metadata(self, path: str | Path) -> dict:
        """Set document metadata from a TSV whose first column (or one named doc, document, id,
        path, file or text) names a document id or a file; checked whole, then written at once."""
        from senseindex.storage.metadata import apply_sidecar, read_sidecar

        rows = read_sidecar(path)[2]
        with self.store.lock():
            return apply_sidecar(self.store.db, rows)

    def save_subcorpus(self, name: str, where: str) -> dict:
        """Save a metadata selection under a name, usable wherever `where` is as `@name`."""
        from senseindex.storage.metadata import save_subcorpus

        with self.store.lock():
            return save_subcorpus(self.store.db, name, where)

    def subcorpora(self) -> list[dict]:
        """The saved subcorpora with the sentences, occurrences and words each holds."""
        from senseindex.storage.metadata import list_subcorpora

        return list_subcorpora(self.store.db)

    def delete_subcorpus(self, name: str) -> dict:
        """Forget a saved subcorpus (the texts and labels it selected are untouched)."""
        from senseindex.storage.metadata import delete_subcorpus

        with self.store.lock():
            if not delete_subcorpus(self.store.db, name):
                raise SenseIndexError(f"no subcorpus named {name!r}")
        return {"deleted": name}

    def compare(self, query: str, k: int = 10, word: str | None = None, any_word: bool = False,
                lemma: str | None = None, any_pos: bool = False) -> tuple[Target, list[Hit], list[Hit]]:
        """(target, contextual hits, static hits) for the same query, for a side-by-side view."""
        target, contextual = self.search(query, k, word, any_word, lemma=lemma, any_pos=any_pos)
        _, static = self.search(query, k, word, any_word, static=True, lemma=lemma)
        return target, contextual, static

    def explain(self, sentences: Sequence[str], neighbours: int = 8) -> dict:
        """Cosine matrices of the marked words (contextual and static) and each occurrence's
        nearest other words in this index."""
        from senseindex.senses.explain import explain

        return explain(self.encoder, self.glove, list(sentences), self.store, neighbours)

    def info(self, word: str | None = None) -> dict:
        """What the index holds: counts, vocabulary, labels, model and vector identity, size on disk;
        with `word`, also `word`: its lemma's occurrences and frequency per million (the count
        search, senses and review give)."""
        from senseindex.senses.frequencies import corpus_tokens, per_million

        if word is not None:
            lemma = self.require_indexed(word)
            count, tokens = self.store.lemma_count(lemma), corpus_tokens(self.store.db)
            return {**self.info(), "word": {"lemma": lemma, "occurrences": count,
                                            "per_million": per_million(count, tokens)}}

        store = self.store
        db, m = store.db, store.manifest
        occ = store.count("occurrences")
        size = store.size_on_disk()
        docs = dict(db.execute("select status, count(*) from documents group by status").fetchall())
        vs = store.vectors
        return {
            "path": str(store.path),
            "documents": sum(docs.values()),
            "documents_incomplete": docs.get("partial", 0),
            "sentences": store.count("sentences"),
            "occurrences": occ,
            "tokens": corpus_tokens(db),
            "vocabulary_words": store.count("vocab"),
            "vocabulary_lemmas": db.execute("select count(*) from lemmas where count > 0").fetchone()[0],
            "glove_missing_words": db.execute("select count(*) from vocab where in_glove = 0").fetchone()[0],
            "labels": dict(db.execute("select source, count(*) from labels group by source").fetchall()),
            "labels_orphaned": db.execute("select count(*) from labels_orphaned").fetchone()[0],
            "model": m["model"],
            "layer": m["layer"],
            "pooling": m["pooling"],
            "precision": m.get("precision", "unknown"),
            "runtime": m.get("runtime", "torch"),
            "query_precision": self._query_precision() or m.get("precision", "unknown"),
            "vector_format": m.get("vector_format", "unknown"),
            "dimensions": int(m["dimensions"]),
            "codec": m.get("codec", "fp16"),
            "codec_trained": vs.codec.trained,
            "code_bytes": vs.codec.code_size,
            "keep_vectors": m.get("keep_vectors") or None,
            "tiers": vs.tiers(),
            "segments": len(vs.state.segments),
            "unsorted_rows": vs.state.tail_rows,
            "removed_awaiting_compaction": len(store.removed()),
            "static_model": m["static_model"],
            "lemmatiser": m["lemmatiser"],
            "format_version": m["format_version"],
            "index_id": store.index_id,
            "size_bytes": size,
            "bytes_per_occurrence": round(size / occ, 1) if occ else None,
        }

    def frequency(self, word: str, clusters: bool = False, k: int | str = "auto", seed: int = 0) -> dict:
        """How often WORD's lemma occurs, absolute and per million tokens: in all, per label in
        effect, per document (relative to its own size) and, with `clusters`, per sense cluster
        (the clustering `senses` shows, numbered from 1). `corpus_tokens` is None for an index
        from before token counts were stored, until a writer migrates it."""
        from senseindex.senses.frequencies import frequency

        lemma = self.require_indexed(word)
        by = None
        if clusters:
            report = self.senses(word, k, None, seed, examples=0, dictionary=False)
            by = {o.occurrence_id: o.cluster for o in report.rows}
        return frequency(self.store, lemma, by)

    def collocates(self, word: str, by: str = "cluster", window: int = 5, top: int = 20, min_count: int = 1,
                   item: str = "lemma", k: int | str = "auto", seed: int = 0) -> dict:
        """Window collocates (±`window` tokens) of each sense of WORD, scored by logDice: per sense
        cluster (`by="cluster"`, the clustering `senses` shows, numbered from 1) or per label in
        effect (`by="label"`). `item`: "lemma" or "word" (the form). See senses.collocates."""
        from senseindex.senses.collocates import collocates

        if by not in ("cluster", "label"):
            raise SenseIndexError("--by must be cluster or label")
        if item not in ("lemma", "word"):
            raise SenseIndexError("--item must be lemma or word")
        if window < 1:
            raise SenseIndexError("--window must be at least 1")
        lemma = self.require_indexed(word)
        groups: dict = {}
        if by == "cluster":
            report = self.senses(word, k, None, seed, examples=0, dictionary=False)
            for o in report.rows:
                groups.setdefault(o.cluster + 1, []).append(o.occurrence_id)
        else:
            for oid, (label, _) in self.effective_labels(word).items():
                groups.setdefault(label, []).append(oid)
        found = collocates(self.store, groups, window, item, top, min_count)
        return {"lemma": lemma, "by": by, "window": window, "item": item,
                "groups": [{"group": g, "size": len(ids), "collocates": [c.to_dict() for c in found[g]]}
                           for g, ids in sorted(groups.items(), key=lambda x: (-len(x[1]), str(x[0])))]}

    # --- labels --------------------------------------------------------------------
    def label(self, query: str, word: str | None = None, k: int = 10, min_score: float = 0.0,
              lemma: str | None = None, any_pos: bool = False, dictionary: bool = True) -> Prediction:
        """The sense of the target in QUERY. In an index without labels or labelled with WordNet
        sense keys, any lemma WordNet lists is answered among its WordNet senses from the context
        (method "dictionary": gloss and supervised sense vectors fused with the k-NN vote of its
        labelled occurrences; "only-sense" where WordNet lists one). Otherwise, and with
        `dictionary=False`: voted by its nearest labelled occurrences of the same lemma and part of
        speech (review and gold labels; earlier predictions never vote), else WordNet's first sense
        (an explicit fallback, method "wordnet-first-sense"), else the lemma's most frequent sense;
        `method` and `basis` say which answered."""
        from senseindex.senses.dictionary import has_user_labels, predict_with_dictionary
        from senseindex.senses.knn import predict

        if dictionary:
            try:
                target = self._indexed_target(query, word, lemma)
            except SenseIndexError:  # not in the index: WordNet may still list it
                from senseindex.text.inventory import load_inventory

                target, inventory = self.target(query, word, lemma), load_inventory()
                if (inventory is None or not target.pos_class or has_user_labels(self.store.db)
                        or not inventory.senses(target.lemma, target.pos_class)):
                    raise
            prediction = predict_with_dictionary(self.store, self.encoder, target, k, min_score, any_pos)
        else:
            target = self._indexed_target(query, word, lemma)
            prediction = predict(self.store, self.encoder, target, k, min_score, any_pos)
        if prediction is None:
            raise SenseIndexError(
                f"cannot label {target.word!r}: no labelled occurrences of {target.lemma!r} in {self.store.path} "
                "(labels come from gold data, e.g. `senseindex index ... --labels FILE` or pre-tokenised input with "
                "senses, or from review)")
        return prediction

    def wordnet_senses(self, lemma: str, pos: str | None = None) -> list[dict]:
        """WordNet's senses of LEMMA (part of speech n, v, a or r; None: all) with keys and glosses,
        in WordNet's order ([] where WordNet lacks it or is not installed). Needs no model."""
        from senseindex.senses.hit_senses import lemma_senses

        return lemma_senses(lemma, pos)

    def dictionary_senses(self, occurrence_ids: Iterable[int]) -> dict[int, dict]:
        """The WordNet sense each stored occurrence reads as (key, synset, gloss, score), scored
        from its stored vector as `label` scores senses, without the k-NN vote; occurrences whose
        lemma WordNet lacks are left out. Runs the model only for a lemma's glosses at first use."""
        from senseindex.senses.hit_senses import stored_senses

        return stored_senses(self.store, self.encoder, occurrence_ids)

    def labels(self, sources: Iterable[str] = SOURCES, word: str | None = None, where: str | None = None,
               meta: Sequence[str] = ()) -> list[dict]:
        """Every stored label (one row per occurrence and source) with its sentence (in a metadata
        selection `where`, when given), and the metadata fields `meta` as more columns."""
        from senseindex.storage.labels import stored_labels
        from senseindex.storage.metadata import with_metadata

        lemma = self.require_indexed(word) if word else None
        rows = stored_labels(self.store.db, sources, lemma, self.selection(where))
        return with_metadata(self.store.db, rows, list(meta)) if meta else rows

    def effective_labels(self, word: str, sources: Iterable[str] = SOURCES) -> dict[int, tuple[str, str]]:
        """(label, source) in effect for each occurrence of a word's lemma, by the one precedence
        rule (storage.labels.SOURCES: gold over review over predicted); `sources` narrows which
        count, e.g. ("gold", "predicted") for what a line would show without its review label."""
        from senseindex.storage.labels import effective_labels

        return effective_labels(self.store.db, lemma=self.require_indexed(word), sources=sources)

    def export_labels(self, path: str | Path, sources: Iterable[str] = SOURCES, word: str | None = None,
                      where: str | None = None, meta: Sequence[str] = ()) -> dict:
        """Write stored labels to a .csv, .tsv, .jsonl or .json file (written whole or not at all)."""
        from senseindex.output.rows import format_for, write_file
        from senseindex.storage.labels import STORED_COLUMNS

        fmt = format_for(path)
        rows = self.labels(sources, word, where, meta)
        return {"path": str(path), "rows": write_file(path, rows, [*STORED_COLUMNS, *meta], fmt)}

    def export_corpus(self, out: str | Path, fmt: str | None = None, words: Sequence[str] = (),
                      labels: Sequence[str] = (), where: str | None = None,
                      progress: Callable[[int], None] | None = None) -> dict:
        """Write every indexed sentence with each occurrence's label in effect (review, gold or
        predicted, with its source and score) as CoNLL-U, VRT or JSONL (`fmt`, else from the
        file's extension); limited to occurrences of `words`' lemmas, to sentences with one of
        `labels`, or to a metadata selection. Written whole or not at all; streams."""
        from senseindex.output.corpus_export import export_corpus

        lemmas = [self.require_indexed(w) for w in words]
        return export_corpus(self.store.db, out, fmt, lemmas, labels, self.selection(where), progress)

    def label_summary(self, word: str) -> dict:
        """How many occurrences of WORD carry each label, per source and in effect."""
        from senseindex.storage.labels import label_summary

        return label_summary(self.store.db, self.require_indexed(word))

    # --- senses and review ---------------------------------------------------------------
    def senses(self, word: str, k: int | str = "auto", min_size: int | None = None, seed: int = 0,
               examples: int = 5, export: str | Path | None = None, where: str | None = None,
               dictionary: bool = True, inventory: str | None = None) -> SenseReport:
        """Group every occurrence of WORD's lemma into sense clusters and describe each.

        `inventory` "wordnet" seeds the clusters with the lemma's WordNet senses (senses.seeded:
        each cluster is a dictionary sense, occurrences far from every sense become new clusters);
        "none" induces them from the vectors alone (Ward, `k`). Default: DEFAULT_INVENTORY, chosen
        on SemCor, unless `k` is given or `dictionary` is off; a lemma WordNet lacks, or an index
        whose model cannot be loaded here, is clustered without it (`report.how` says so).
        With `dictionary` (where WordNet lists the lemma), `report.dictionary` gives each cluster's
        best-matching WordNet senses with glosses and flags clusters far from all of them as
        candidate new senses, and every occurrence gets its soft distribution over the clusters.
        With `export`, the clusters are also written as a review file (.csv, .jsonl or .html; the
        format is checked before any clustering work); `report.export` says what was written.
        `where` clusters only the occurrences in a metadata selection."""
        from senseindex.output.review_export import export_format, export_review
        from senseindex.senses.induction import induce_senses
        from senseindex.senses.seeded import DEFAULT_INVENTORY, INVENTORIES, seeded_senses

        if inventory is not None and inventory not in INVENTORIES:
            raise SenseIndexError(f"--inventory {inventory!r}: use wordnet or none")
        if inventory == "wordnet" and k != "auto":
            raise SenseIndexError("--k applies to --inventory none (WordNet's senses set the clusters)")
        mode = inventory or (DEFAULT_INVENTORY if dictionary and k == "auto" else "none")
        if export:
            export_format(export)
        self.require_indexed(word)
        report, note = None, ""
        encoder = None
        if dictionary or mode == "wordnet":
            try:
                encoder = self.encoder
            except SenseIndexError:  # the index's model cannot be loaded here: clusters without glosses
                if inventory == "wordnet":
                    raise
                note = "; the index's model is not available here, so no dictionary"
        if mode == "wordnet" and encoder is not None:
            report = seeded_senses(self.store, encoder, word, min_size, seed, examples, glove=self.glove,
                                   where=self.selection(where))
            if report is None:
                note = "; WordNet lacks the lemma in its part of speech, so clustered without it"
        if report is None:
            report = induce_senses(self.store, word, k, min_size, seed, examples, glove=self.glove,
                                   where=self.selection(where))
            report.how += note
            if dictionary:
                from senseindex.senses.cluster_senses import add_dictionary

                add_dictionary(self.store, encoder, report)
        if export:
            report.export = export_review(report, export)
        return report

    def senses_over(self, word: str, by: str, width: float | None = None, of: str = "auto", where: str | None = None,
                    k: int | str = "auto", seed: int = 0, plot: str | Path | None = None,
                    lines: tuple[str, str] | None = None, max_lines: int = 100) -> dict:
        """Share and frequency per million of each sense of WORD per value of a metadata field
        (numbers grouped `width` wide: 10 for decades), with counts and Wilson intervals.
        `of`: "label" (the labels in effect), "cluster" (sense clusters, `k` and `seed` as for
        `senses`), or "auto" (labels when the word has any). `plot` also draws a .png. `lines`
        (a bin, as the table names it or by its value, and a sense) adds the occurrences behind
        that cell of the table (up to `max_lines`; `lines_total` counts them all)."""
        from senseindex.senses.over import senses_over
        from senseindex.storage.labels import effective_labels

        if of not in ("auto", "label", "cluster"):
            raise SenseIndexError(f"--of {of!r}: use label, cluster or auto")
        if plot is not None:
            from senseindex.output.rows import check_extension

            check_extension(plot, (".png",), "plot")
        lemma = self.require_indexed(word)
        sel = self.selection(where)
        clusters = None
        if of == "cluster" or (of == "auto" and not effective_labels(self.store.db, lemma=lemma)):
            report = self.senses(word, k, None, seed, 0, where=where, dictionary=False)
            names = report.names()
            clusters = {o.occurrence_id: names[o.cluster] for o in report.rows}
            of = "cluster"
        report = senses_over(self.store, lemma, by, width, of, sel, clusters)
        result = report.to_dict()
        if lines is not None:
            from senseindex.storage.db import occurrences_by_id

            at, sense = str(lines[0]), str(lines[1])
            bin_label = next((b["bin"] for b in result["bins"] if at in (b["bin"], str(b["value"]))), at)
            ids = report.members.get((bin_label, sense), [])
            found = occurrences_by_id(self.store.db, ids[:max_lines])
            result["lines_total"] = len(ids)
            result["lines"] = [{"occurrence_id": r[0], "sentence": r[6], "start": r[2], "end": r[3], "word": r[4],
                                "doc": r[8], "line": r[7], "bin": bin_label, "sense": sense}
                               for r in (found[i] for i in ids[:max_lines] if i in found)]
        if plot is not None:
            from senseindex.output.over_plot import write_over_png

            result["plot"] = write_over_png(result, plot)
        return result

    def word_sketch(self, word: str, of: str = "auto", where: str | None = None, k: int | str = "auto",
                    seed: int = 0, min_count: int = 1, top: int = 10) -> dict:
        """WORD's collocates per grammatical relation, split by sense (labels in effect, or sense
        clusters: `of` as for `senses_over`), each with its count and logDice; needs an index
        made with `parse=True`."""
        from senseindex.senses.sketch import word_sketch
        from senseindex.storage.labels import effective_labels

        if of not in ("auto", "label", "cluster"):
            raise SenseIndexError(f"--of {of!r}: use label, cluster or auto")
        lemma = self.require_indexed(word)
        clusters = None
        if of == "cluster" or (of == "auto" and not effective_labels(self.store.db, lemma=lemma)):
            report = self.senses(word, k, None, seed, 0, where=where, dictionary=False)
            names = report.names()
            clusters = {o.occurrence_id: names[o.cluster] for o in report.rows}
        return word_sketch(self.store, lemma, "cluster" if clusters is not None else "label", clusters,
                           self.selection(where), min_count, top)

    def import_review(self, path: str | Path) -> dict:
        """Store a reviewed file's labels (source "review"): every row is checked first, then all
        are written in one transaction, or none."""
        from senseindex.senses.review_import import apply_import, plan_import

        plan = plan_import(self.store, path)
        with self.store.lock():
            return apply_import(self.store, plan)

    def review_labels(self, rows: Iterable[dict], clear: Iterable[int] = ()) -> dict:
        """Store review labels given as rows shaped like a review file's (index_id, occurrence_id,
        cluster, label, cluster_label; word optional), checked by the same code as `import_review`
        and written in one transaction, or none. `clear` removes the review label of those
        occurrences (an undo). The result adds `before`: each touched occurrence's review label
        before the write (None: none), which is what an undo writes back."""
        from senseindex.senses.review_import import apply_rows, plan_rows

        plan = plan_rows(self.store, list(rows), clear)
        with self.store.lock():
            return apply_rows(self.store, plan)

    def review(self, word: str, n: int = 10, seed: int = 0) -> ReviewBatch:
        """The next `n` occurrences of WORD a person should label (active review; reads only):
        one per sense cluster without a label first, then those the labeller is least sure of
        (see `senseindex.senses.active`). Answer them with `answer_review`."""
        from senseindex.senses.review_queue import next_questions

        return next_questions(self.store, self.require_indexed(word), n, seed)

    def answer_review(self, word: str, answers: Mapping[int, str]) -> dict:
        """Store a person's answers (occurrence id -> sense name, or "skip") as review labels,
        checked like `import_review` and written all or nothing, then label every other occurrence
        of WORD from them (source "predicted", the k-NN vote). Returns the counts stored and
        `review_status` after the write."""
        from senseindex.senses.review_import import apply_rows, plan_rows
        from senseindex.senses.review_queue import check_answers, predict_rest, store_skips

        lemma = self.require_indexed(word)
        rows, skips = check_answers(self.store, lemma, dict(answers))
        plan = plan_rows(self.store, rows, name="answers") if rows else None
        with self.store.lock():
            stored = apply_rows(self.store, plan) if plan else {"labelled": 0, "changed": 0}
            with self.store.db.conn:
                store_skips(self.store.db, skips)
            status = predict_rest(self.store, lemma)
        before = {int(k): v for k, v in stored.get("before", {}).items()}
        before.update({int(i): None for i in skips if int(i) not in before})
        return {"labelled": stored["labelled"], "changed": stored["changed"], "skipped": len(skips),
                "status": status, "before": before}

    def undo_review(self, word: str, before: Mapping[int, str | None]) -> dict:
        """Undo answers: write back each occurrence's review label as it was (`before`, as
        `answer_review` returned it; None clears it and forgets a skip), all or nothing, then
        label the rest again from the labels left. Returns `review_status` after it."""
        from senseindex.senses.review_import import apply_rows, plan_rows
        from senseindex.senses.review_queue import forget_skips, predict_rest

        lemma = self.require_indexed(word)
        index_id = self.store.index_id
        rows = [{"index_id": index_id, "occurrence_id": int(oid), "label": lab} for oid, lab in before.items()
                if lab is not None]
        clear = [int(oid) for oid, lab in before.items() if lab is None]
        plan = plan_rows(self.store, rows, clear, name="undo")
        with self.store.lock():
            result = apply_rows(self.store, plan)
            with self.store.db.conn:
                forget_skips(self.store.db, clear)
            status = predict_rest(self.store, lemma)
        return {"restored": len(rows), "cleared": result.get("cleared", 0), "status": status}

    def review_status(self, word: str) -> dict:
        """How WORD's occurrences are labelled (by a person, gold, by k-NN, not at all) and the
        accuracy estimated by leave-one-out on the person's and gold labels."""
        from senseindex.senses.review_queue import read_word, status_of

        return status_of(self.store, read_word(self.store, self.require_indexed(word)))

    def plot(self, word: str, out: str | Path, color: str = "cluster", projection: str = "pca",
             k: int | str = "auto", seed: int = 0) -> dict:
        """A 2-D map of WORD's occurrences (.png or .html), with their mean, the one-vector view."""
        from senseindex.output.plot import check_plot_path, plot_data, write_plot

        check_plot_path(out)
        report = self.senses(word, k, None, seed, dictionary=False)
        return write_plot(plot_data(self.store, report, color, projection, seed), out)

    # --- evaluation -------------------------------------------------------------------
    def evaluate_semcor(self, holdout: float = 0.1, k: int = 10, any_pos: bool = False,
                        test_tags: dict[int, str] | None = None, wordnet: bool = True,
                        codec: str | None = None) -> dict:
        """Label the gold occurrences of held-out documents from the rest of this index (k-NN, 1-NN, MFS):
        within the part of speech (`any_pos`: across), with the gold tags or `test_tags` (id -> Penn tag);
        lemmas unseen in training back off to WordNet's first sense (not with `wordnet=False`);
        `codec`: the vectors as that codec would store them (trained on a sample of this index)."""
        from senseindex.evaluation.semcor import evaluate_semcor

        return evaluate_semcor(self, holdout, k, any_pos, test_tags, wordnet, codec)


def warn_precision(manifest: Mapping[str, str], encoder: WordEncoder) -> None:
    """Warn when queries are encoded at another precision than the index's vectors were (their
    cosines then carry that precision's error too; docs/runtimes.md gives the measured bounds)."""
    import warnings

    from senseindex.errors import SenseIndexWarning

    built = manifest.get("precision")
    if built and built != encoder.precision:
        warnings.warn(f"{manifest.get('model')}: the index was built at {built} "
                      f"({manifest.get('runtime', 'torch')}); queries are encoded at {encoder.precision} "
                      f"({getattr(encoder, 'runtime', 'torch')}): pass --precision {built} for the same vectors",
                      SenseIndexWarning, stacklevel=3)


def explain(sentences: Sequence[str], model: str | None = None, layer: str = "last", device: str = "auto",
            precision: str = "auto", encoder: WordEncoder | None = None, runtime: str = "auto") -> dict:
    """Cosine matrices of the marked words in SENTENCES without an index (SenseIndex.explain adds
    each occurrence's nearest words in an index)."""
    from senseindex.encoding.encoder import load_encoder
    from senseindex.senses.explain import explain as run

    return run(encoder or load_encoder(model, layer, device, precision, runtime), load_glove(), list(sentences))


def evaluate_coarsewsd(root: str | Path | None = None, words: Sequence[str] | None = None, **kwargs) -> dict:
    """CoarseWSD-20 sense-labelling benchmark (see evaluation.coarsewsd.evaluate_coarsewsd)."""
    from senseindex.evaluation.coarsewsd import evaluate_coarsewsd as run

    return run(root, words, **kwargs)
