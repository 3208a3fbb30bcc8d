"""SenseIndex: the one entry point for every workflow; the CLI only parses, calls one method, renders.

A Python user gets every guarantee the command line gives: input is read and checked before an
index is created or written, one writer at a time, interrupted work resumes, labels are imported
all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from senseindex.encoding.glove import GLOVE_NAME, Glove, load_glove, not_indexed
from senseindex.encoding.weights import resolve_model, same_model
from senseindex.errors import CorpusError, SenseIndexError
from senseindex.storage.labels import SOURCES
from senseindex.storage.store import Store, resolve_index_path
from senseindex.text.corpus import DEFAULT_INCLUDE, ReadOptions
from senseindex.text.tagging import legacy_lemma, legacy_lemmas, tagger_name
from senseindex.text.words import lemmatize, simplemma_lemma

if TYPE_CHECKING:
    from senseindex.distributed import RayEngine
    from senseindex.encoding.encoder import WordEncoder
    from senseindex.indexer import IndexReport, PlannedFile
    from senseindex.senses.induction import SenseReport
    from senseindex.senses.knn import Prediction
    from senseindex.senses.review_queue import ReviewBatch
    from senseindex.senses.search import Hit, Target
    from senseindex.storage.check import CheckReport

# two tiers: PQ16 codes (16 bytes) scanned by every search, SQ4 codes (384 bytes for 768 dimensions,
# mean cosine 0.99 to the exact vector) read by clusters, centroids, k-NN votes and re-ranking
# (docs/benchmarks/28-codec.md; the previous default, PQ64 alone, kept a mean cosine of 0.75)
DEFAULT_CODEC = "PQ16,Refine(SQ4)"
Progress = Callable[[int, int], None]  # (sentences, words) committed since the last call


class SenseIndex:
    """An index of word occurrences, each with a contextual vector, searchable by sense.

    Open an existing index with `open`, or `open_or_create` one that `add` creates on its first
    successful read of the input. The encoder is loaded on first use (searching and labelling
    need it; info, senses, labels and plots do not)."""

    def __init__(self, store: Store | None, encoder: WordEncoder | None = None, device: str = "auto",
                 precision: str = "auto", *, path: str | Path | None = None, new: dict | None = None) -> None:
        self._store = store
        self._encoder = encoder
        self.device = device
        self.precision = precision
        self._path = store.path if store is not None else Path(path)
        self._new = new or {}  # model, layer and codec of an index that `add` has yet to create

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, model: str | None = None, device: str = "auto", precision: str = "auto",
             encoder: WordEncoder | None = None) -> SenseIndex:
        """Open an existing index; `model` or `encoder`, when given, must be the index's model."""
        store = Store.open(path)
        built = store.manifest["model"]
        asked = encoder.name if encoder is not None else (resolve_model(model).name if model else None)
        if asked and not same_model(asked, built):
            raise SenseIndexError(f"{store.path} was built with {built}; it cannot be searched with {model or asked}")
        return cls(store, encoder, device, precision)

    @classmethod
    def open_or_create(cls, path: str | Path, model: str | None = None, layer: str | None = None,
                       device: str = "auto", precision: str = "auto", codec: str | None = None,
                       encoder: WordEncoder | None = None, keep_vectors: str | None = None,
                       train_rows: int | None = None, tail_max: int | None = None) -> SenseIndex:
        """Open the index at `path`, or prepare a new one there (written by the first `add`).

        `codec` compresses occurrence vectors once the index holds `train_rows` of them (exact
        float16 until then; "fp16" keeps them exact). Default: DEFAULT_CODEC, or exact float16
        for a model whose dimensions it cannot split. `keep_vectors` ("fp16" or "fp32") also keeps
        exact vectors, for re-ranking and re-training. `tail_max` is how many new vectors are
        kept unsorted before they are sorted into a segment."""
        path = resolve_index_path(path)
        if Store.is_index(path):
            si = cls.open(path, model, device, precision, encoder)
            if layer and str(layer) != si.store.manifest["layer"]:
                raise SenseIndexError(f"{path} was built from layer {si.store.manifest['layer']}, not {layer}")
            return si
        Store.check_new(path)
        if keep_vectors not in (None, "", "fp16", "fp32"):
            raise SenseIndexError(f"--keep-vectors {keep_vectors!r}: use fp16 or fp32")
        return cls(None, encoder, device, precision, path=path,
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
        if self._encoder is None:
            from senseindex.encoding.encoder import load_encoder

            if self._store is None and not Store.is_index(self._path):
                model, layer = self._new["model"], self._new["layer"]
            else:
                model, layer = self.store.manifest["model"], self.store.manifest["layer"]
            self._encoder = load_encoder(model, layer, self.device, self.precision)
        return self._encoder

    @property
    def glove(self) -> Glove:
        return load_glove()

    # --- building ----------------------------------------------------------------
    def add(self, sources: Iterable[str | Path], options: ReadOptions | None = None,
            include: Sequence[str] = DEFAULT_INCLUDE, all_words: bool = False, gold: str | Path | None = None,
            progress: Progress | None = None, on_plan: Callable[[list[PlannedFile], list[str]], None] | None = None,
            chunk_sentences: int = 1024, engine: RayEngine | None = None) -> IndexReport:
        """Index files (.txt, .jsonl, .csv, .tsv, .gz of these, folders of them).

        Every file is read and checked, and hashed once, before the index is created or touched;
        files whose content is already indexed are skipped and a partly indexed one resumes.
        `gold` attaches gold senses from a TSV (file, line, word, sense), also checked first.
        `on_plan(todo, skipped)` is called once before indexing starts (for a progress bar).
        `engine` (a `distributed.RayEngine`) encodes on Ray workers instead of in this process;
        the index it writes is the same."""
        from senseindex.indexer import Indexer, against_index, read_plan
        from senseindex.storage.labels import read_gold_tsv

        options = options or ReadOptions()
        sources = list(sources)
        existing = self._store if self._store is not None else (
            Store.open(self._path) if Store.is_index(self._path) else None)
        todo, skipped = read_plan(sources, options, include, existing)
        gold_rows = read_gold_tsv(gold) if gold else None
        if not skipped and not sum(p.sentences for p in todo):
            raise CorpusError("no text found in " + ", ".join(map(str, sources)) + " (empty corpus)")
        with self.store.lock():
            todo, more = against_index(self.store, todo)  # another writer may have finished some
            skipped += more
            if on_plan:
                on_plan(todo, skipped)
            if engine is None:
                report = Indexer(self.store, self.encoder, self.glove, all_words, chunk_sentences).run(
                    todo, options, progress)
            else:
                report = engine.run(self.store, todo, options, all_words, self.glove, progress)
            report.skipped = skipped
            report.replaced = self._replace_old_versions(todo)
            if gold_rows is not None:
                report.gold_file = self._apply_gold(gold_rows)
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
               encoder: WordEncoder | None = None) -> dict:
        """Rebuild what `check` finds damaged and can be derived (vector files re-encoded from the
        text with the index's model, the codec, static vectors, counts); refuse, changing nothing,
        when index.db itself is damaged. Labels are never dropped."""
        from senseindex.storage.repair import repair_index

        si = cls(None, encoder, device, precision, path=resolve_index_path(path))
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

        return parse_target(query, word, self.store.lemma_count, lemma)

    def require_indexed(self, word: str, lemma: str | None = None) -> str:
        """The word's lemma, or the one "not in the index; nearest words" error."""
        lemma = lemma or lemmatize(word)
        if self.store.lemma_count(lemma) == 0:
            made_by = self.store.manifest.get("lemmatiser", "")
            if made_by.startswith("simplemma"):  # how indexes before the tagger lemmatised
                old = " ".join(simplemma_lemma(w) for w in word.split())
            elif legacy_lemmas(made_by):  # spaCy before the lexicon rules ("americans", "specie")
                old = legacy_lemma(word)
            else:
                old = lemma
            if old != lemma and self.store.lemma_count(old):
                return old
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
               static: bool = False, lemma: str | None = None, any_pos: bool = False) -> tuple[Target, list[Hit]]:
        """(target, hits): occurrences used in the same sense as the target in QUERY, best first.

        Occurrences tagged with another part of speech than the target's are left out unless
        `any_pos` (or the lemma has none in the target's). `static` ranks by the static GloVe
        view instead (the sentences' mean word vectors); `any_word` searches every occurrence,
        not only the target's lemma; `lemma` names the lemma to search."""
        from senseindex.senses.search import contextual_search, other_pos_ids, static_search

        target = self.target(query, word, lemma) if any_word else self._indexed_target(query, word, lemma)
        if static:
            return target, static_search(self.store, self.glove, target, k, any_word)
        exclude = set() if any_word or any_pos else other_pos_ids(self.store, target)
        return target, contextual_search(self.store, self.encoder, target, k, any_word, exclude)

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

    def info(self) -> dict:
        """What the index holds: counts, vocabulary, labels, model and vector identity, size on disk."""
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
            "vocabulary_words": store.count("vocab"),
            "vocabulary_lemmas": db.execute("select count(*) from lemmas where count > 0").fetchone()[0],
            "glove_missing_words": db.execute("select count(*) from vocab where in_glove = 0").fetchone()[0],
            "labels": dict(db.execute("select source, count(*) from labels group by source").fetchall()),
            "labels_orphaned": db.execute("select count(*) from labels_orphaned").fetchone()[0],
            "model": m["model"],
            "layer": m["layer"],
            "pooling": m["pooling"],
            "precision": m.get("precision", "unknown"),
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

    # --- labels --------------------------------------------------------------------
    def label(self, query: str, word: str | None = None, k: int = 10, min_score: float = 0.0,
              lemma: str | None = None, any_pos: bool = False) -> Prediction:
        """The sense of the target in QUERY, voted by its nearest labelled occurrences of the same
        lemma and part of speech (review and gold labels; earlier predictions never vote), else
        WordNet's first sense (an index labelled with WordNet sense keys), else the lemma's most
        frequent sense; `method` and `basis` say which answered."""
        from senseindex.senses.knn import predict

        target = self._indexed_target(query, word, lemma)
        prediction = predict(self.store, self.encoder, target, k, min_score, any_pos)
        if prediction is None:
            raise SenseIndexError(
                f"cannot label {target.word!r}: no labelled occurrences of {target.lemma!r} in {self.store.path} "
                "(labels come from gold data, e.g. `senseindex index ... --labels FILE` or pre-tokenised input with "
                "senses, or from review)")
        return prediction

    def labels(self, sources: Iterable[str] = SOURCES, word: str | None = None) -> list[dict]:
        """Every stored label (one row per occurrence and source) with its sentence."""
        from senseindex.storage.labels import stored_labels

        lemma = self.require_indexed(word) if word else None
        return stored_labels(self.store.db, sources, lemma)

    def export_labels(self, path: str | Path, sources: Iterable[str] = SOURCES, word: str | None = None) -> dict:
        """Write stored labels to a .csv, .tsv, .jsonl or .json file (written whole or not at all)."""
        from senseindex.output.rows import format_for, write_file
        from senseindex.storage.labels import STORED_COLUMNS

        fmt = format_for(path)
        rows = self.labels(sources, word)
        return {"path": str(path), "rows": write_file(path, rows, STORED_COLUMNS, fmt)}

    def label_summary(self, word: str) -> dict:
        """How many occurrences of WORD carry each label, per source and in effect."""
        from senseindex.storage.labels import label_summary

        return label_summary(self.store.db, self.require_indexed(word))

    # --- senses and review ---------------------------------------------------------------
    def senses(self, word: str, k: int | str = "auto", min_size: int | None = None, seed: int = 0,
               examples: int = 5, export: str | Path | None = None) -> SenseReport:
        """Group every occurrence of WORD's lemma into sense clusters and describe each.

        With `export`, the clusters are also written as a review file (.csv, .jsonl or .html; the
        format is checked before any clustering work); `report.export` says what was written."""
        from senseindex.output.review_export import export_format, export_review
        from senseindex.senses.induction import induce_senses

        if export:
            export_format(export)
        self.require_indexed(word)
        report = induce_senses(self.store, word, k, min_size, seed, examples, glove=self.glove)
        if export:
            report.export = export_review(report, export)
        return report

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
        return {"labelled": stored["labelled"], "changed": stored["changed"], "skipped": len(skips),
                "status": status}

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
        report = self.senses(word, k, None, seed)
        return write_plot(plot_data(self.store, report, color, projection, seed), out)

    # --- evaluation -------------------------------------------------------------------
    def evaluate_semcor(self, holdout: float = 0.1, k: int = 10, any_pos: bool = False,
                        test_tags: dict[int, str] | None = None, wordnet: bool = True) -> dict:
        """Label the gold occurrences of held-out documents from the rest of this index (k-NN, 1-NN, MFS):
        within the part of speech (`any_pos`: across), with the gold tags or `test_tags` (id -> Penn tag);
        lemmas unseen in training back off to WordNet's first sense (not with `wordnet=False`)."""
        from senseindex.evaluation.semcor import evaluate_semcor

        return evaluate_semcor(self, holdout, k, any_pos, test_tags, wordnet)


def explain(sentences: Sequence[str], model: str | None = None, layer: str = "last", device: str = "auto",
            precision: str = "auto", encoder: WordEncoder | None = None) -> dict:
    """Cosine matrices of the marked words in SENTENCES without an index (SenseIndex.explain adds
    each occurrence's nearest words in an index)."""
    from senseindex.encoding.encoder import load_encoder
    from senseindex.senses.explain import explain as run

    return run(encoder or load_encoder(model, layer, device, precision), load_glove(), list(sentences))


def evaluate_coarsewsd(root: str | Path | None = None, words: Sequence[str] | None = None, **kwargs) -> dict:
    """CoarseWSD-20 sense-labelling benchmark (see evaluation.coarsewsd.evaluate_coarsewsd)."""
    from senseindex.evaluation.coarsewsd import evaluate_coarsewsd as run

    return run(root, words, **kwargs)
