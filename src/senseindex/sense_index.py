"""SenseIndex: the Python API behind every command."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .corpus import DEFAULT_INCLUDE, ReadOptions
from .errors import SenseIndexError
from .models import resolve_model, same_model
from .static import GLOVE_NAME, load_glove
from .store import Store, resolve_index_path
from .words import LEMMATISER


class SenseIndex:
    """An index of word occurrences; open an existing one or create it on first `add`."""

    def __init__(self, store: Store, encoder=None, device: str = "auto", precision: str = "auto") -> None:
        self.store = store
        self._encoder = encoder
        self.device = device
        self.precision = precision

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, model: str | None = None, device: str = "auto", precision: str = "auto",
             encoder=None) -> SenseIndex:
        store = Store.open(path)
        if model and not same_model(resolve_model(model).name, store.manifest["model"]):
            raise SenseIndexError(
                f"{store.path} was built with {store.manifest['model']}; it cannot be searched with {model}")
        return cls(store, encoder, device, precision)

    @classmethod
    def open_or_create(cls, path: str | Path, model: str | None = None, layer: str | None = None, device: str = "auto",
                       precision: str = "auto", codec: str = "Flat", encoder=None) -> SenseIndex:
        path = resolve_index_path(path)
        if Store.is_index(path):
            si = cls.open(path, model, device, precision, encoder)
            if layer and str(layer) != si.store.manifest["layer"]:
                raise SenseIndexError(f"{path} was built from layer {si.store.manifest['layer']}, not {layer}")
            return si
        if encoder is None:
            from .encoder import load_encoder

            encoder = load_encoder(model, layer or "last", device, precision)
        from .vectors import check_codec

        check_codec(encoder.dim, codec)
        manifest = {
            "model": encoder.name, "layer": encoder.layer, "pooling": "mean-subwords-l2",
            "dimensions": encoder.dim, "static_model": GLOVE_NAME, "static_dimensions": load_glove().dim,
            "lemmatiser": LEMMATISER, "codec": codec, "max_length": encoder.max_length,
        }
        return cls(Store.create(path, manifest), encoder, device, precision)

    @property
    def encoder(self):
        if self._encoder is None:
            from .encoder import load_encoder

            m = self.store.manifest
            self._encoder = load_encoder(m["model"], m["layer"], self.device, self.precision)
        return self._encoder

    @property
    def glove(self):
        return load_glove()

    # --- building ----------------------------------------------------------------
    def add(self, sources: Iterable[str | Path], options: ReadOptions | None = None, include=DEFAULT_INCLUDE,
            all_words: bool = False, progress=None, on_plan=None, chunk_sentences: int = 1024,
            known: dict[str, int] | None = None):
        """Index files; already-indexed files are skipped and an interrupted run resumes."""
        from .indexer import Indexer, plan_files

        options = options or ReadOptions()
        with self.store.lock():
            planned, skipped = plan_files(self.store, sources, options, include, known)
            if on_plan:
                on_plan(planned, skipped)
            report = Indexer(self.store, self.encoder, self.glove, all_words, chunk_sentences).run(
                planned, options, progress)
        report.skipped = skipped
        return report

    def import_gold(self, path: str | Path) -> dict[str, int]:
        from .labels import import_gold_tsv

        with self.store.lock():
            return import_gold_tsv(self.store.db, path)

    # --- querying ----------------------------------------------------------------
    def target(self, query: str, word: str | None = None):
        from .search import lemma_count, parse_target

        return parse_target(query, word, lambda lemma: lemma_count(self.store.db, lemma))

    def search(self, query: str, k: int = 10, word: str | None = None, any_word: bool = False,
               static: bool = False):
        """(target, hits) for a query; raises with nearby words when the target is not indexed."""
        from .search import contextual_search, static_search

        target = self.target(query, word)
        if not any_word:
            self.require_indexed(target)
        if static:
            return target, static_search(self.store, self.glove, target, k, any_word)
        return target, contextual_search(self.store, self.encoder, target, k, any_word)

    def require_indexed(self, target) -> None:
        """A clear error, with the nearest indexed words, when the target's lemma is not indexed."""
        from .search import lemma_count, nearest_words

        if lemma_count(self.store.db, target.lemma) == 0:
            near = nearest_words(self.store, self.glove, target.word)
            hint = f"; nearest indexed words: {', '.join(near)}" if near else ""
            raise SenseIndexError(f"{target.word!r} is not in the index{hint}")

    def explain(self, sentences: list[str], neighbours: int = 8) -> dict:
        from .explain import explain

        return explain(self.encoder, self.glove, sentences, self.store, neighbours)

    def info(self) -> dict:
        db, m = self.store.db, self.store.manifest
        occ = self.store.count("occurrences")
        size = self.store.size_on_disk()
        docs = dict(db.execute("select status, count(*) from documents group by status").fetchall())
        return {
            "path": str(self.store.path),
            "documents": sum(docs.values()),
            "documents_incomplete": docs.get("partial", 0),
            "sentences": self.store.count("sentences"),
            "occurrences": occ,
            "vocabulary_words": db["vocab"].count,
            "vocabulary_lemmas": db.execute("select count(distinct lemma) from occurrences").fetchone()[0],
            "glove_missing_words": db.execute("select count(*) from vocab where in_glove = 0").fetchone()[0],
            "labels": dict(db.execute("select source, count(*) from labels group by source").fetchall()),
            "model": m["model"],
            "layer": m["layer"],
            "pooling": m["pooling"],
            "dimensions": int(m["dimensions"]),
            "codec": m.get("codec", "Flat"),
            "static_model": m["static_model"],
            "lemmatiser": m["lemmatiser"],
            "format_version": m["format_version"],
            "size_bytes": size,
            "bytes_per_occurrence": round(size / occ, 1) if occ else None,
        }
