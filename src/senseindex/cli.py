"""The senseindex command line: parse options, call the library, render."""

from __future__ import annotations

import functools
import signal
import sys
import time

import click

from . import render
from .corpus import DEFAULT_INCLUDE, ReadOptions
from .errors import SenseIndexError
from .sense_index import SenseIndex
from .store import Store, resolve_index_path


def output_options(fn):
    """--json (and --csv where a command prints rows), shared by every command."""
    fn = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(fn)
    return fn


def csv_option(fn):
    return click.option("--csv", "as_csv", is_flag=True, help="Print CSV rows.")(fn)


def user_errors(fn):
    """One line and a non-zero exit for user errors; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SenseIndexError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def model_options(fn):
    fn = click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
                      help="Where the encoder runs (fp16 on CUDA, bf16 on CPUs with AMX/AVX512-bf16).")(fn)
    fn = click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto",
                      show_default=True, help="Encoder precision.")(fn)
    return fn


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
    Measure:
      senseindex eval coarsewsd20
      senseindex eval semcor indexes/semcor
    """


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@click.option("--index", "index_path", required=True, type=click.Path(), help="Index folder (created if missing).")
@click.option("--model", default=None, help="mpnet (default, packaged), minilm (small, packaged), a Hugging Face id or a local folder.")
@click.option("--layer", default=None, help="Hidden layer: last (default), lastN (mean of the last N), middle or a number.")
@click.option("--codec", default="Flat", show_default=True, help="FAISS codec for occurrence vectors, e.g. Flat, SQ8, OPQ32,PQ32.")
@click.option("--text-field", default="text", show_default=True, help="JSONL field holding the text.")
@click.option("--text-column", default="text", show_default=True, help="CSV/TSV column holding the text.")
@click.option("--include", multiple=True, help="Glob of files to read inside directories (repeatable).")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the input files.")
@click.option("--errors", "decode_errors", type=click.Choice(["strict", "replace", "ignore"]), default="strict",
              show_default=True, help="What to do with bytes that do not decode.")
@click.option("--all-words", is_flag=True, help="Index stopwords too.")
@click.option("--labels", "labels_file", type=click.Path(), help="Gold senses TSV (file, line, word, sense) to attach.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@model_options
@output_options
@user_errors
def index(sources, index_path, model, layer, codec, text_field, text_column, include, encoding, decode_errors,
          all_words, labels_file, quiet, device, precision, as_json):
    """Index SOURCES (files or folders of .txt, .jsonl, .csv, .tsv, or .gz of these).

    Every word occurrence gets a contextual vector; each sentence also gets a static GloVe
    vector. Files already indexed (same content) are skipped; an interrupted run resumes.
    """
    options = ReadOptions(text_field, text_column, encoding, decode_errors)
    from .indexer import plan_files

    include = include or DEFAULT_INCLUDE
    existing = resolve_index_path(index_path)
    store = Store.open(existing) if Store.is_index(existing) else None
    planned, skipped = plan_files(store, sources, options, include)  # validate before creating anything
    if not sum(p.sentences for p in planned):
        if not skipped:
            raise SenseIndexError("no text found in " + ", ".join(map(str, sources)) + " (empty corpus)")
    known = {p.sha256: p.sentences for p in planned}
    si = SenseIndex.open_or_create(index_path, model, layer, device, precision, codec)
    bar = {}

    def on_plan(todo, skipped):
        if skipped and not quiet:
            click.echo(f"skipping {len(skipped)} already indexed file(s)", err=True)
        bar["total"] = sum(p.sentences - p.done_before for p in todo)
        bar["done"], bar["words"], bar["t0"] = 0, 0, time.perf_counter()

    def progress(n_sent, n_words):
        bar["done"] += n_sent
        bar["words"] += n_words
        if quiet:
            return
        el = max(time.perf_counter() - bar["t0"], 1e-9)
        rate = bar["done"] / el
        eta = (bar["total"] - bar["done"]) / rate if rate else 0
        width = 30
        fill = int(width * bar["done"] / max(bar["total"], 1))
        click.echo(f"\r[{'#' * fill}{'.' * (width - fill)}] {bar['done']:,}/{bar['total']:,} sentences  "
                   f"{rate:,.1f} sent/s  {bar['words'] / el:,.0f} words/s  ETA {int(eta) // 60}:{int(eta) % 60:02d}",
                   nl=False, err=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, stop)
    try:
        report = si.add(sources, options, include, all_words, progress, on_plan, known=known)
    except KeyboardInterrupt:
        info = si.info()
        click.echo(f"\ninterrupted: the index holds {info['sentences']:,} sentences and {info['occurrences']:,} "
                   "occurrences; run the same command again to resume", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, old)
    if not quiet and bar.get("done"):
        click.echo("", err=True)
    result = {"documents_added": report.documents, "files_skipped": len(report.skipped),
              "sentences_added": report.sentences, "occurrences_added": report.occurrences,
              "gold_labels_added": report.labels, "seconds": round(report.seconds, 2)}
    if labels_file:
        result["labels_file"] = si.import_gold(labels_file)
    result["index"] = si.info()
    if as_json:
        click.echo(render.to_json(result))
    else:
        click.echo(f"added {report.sentences:,} sentences, {report.occurrences:,} occurrences "
                   f"from {report.documents} document(s) in {report.seconds:.1f}s; skipped {len(report.skipped)} file(s)")
        if labels_file:
            lf = result["labels_file"]
            click.echo(f"gold labels: {lf['labelled']:,} occurrences labelled, {lf['unmatched']} rows unmatched")
        click.echo(render.info_text(result["index"]))


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("query")
@click.option("--word", help="The target word, when the query is not marked with [brackets].")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 10000), help="Number of results.")
@click.option("--any-word", is_flag=True, help="Search all occurrences, not only the target's lemma.")
@click.option("--static", is_flag=True, help="Rank with the static GloVe index (sentence vectors).")
@click.option("--compare", is_flag=True, help="Contextual and static results side by side.")
@model_options
@output_options
@csv_option
@user_errors
def search(index_path, query, word, k, any_word, static, compare, device, precision, as_json, as_csv):
    """Find occurrences of a word used in the same sense as in QUERY.

    Mark the target like 'I have a [mole] on my hip'; unmarked, the query word with the
    fewest occurrences in the index is used.
    """
    si = SenseIndex.open(index_path, device=device, precision=precision)
    if compare:
        target, ctx = si.search(query, k, word, any_word)
        _, st = si.search(query, k, word, any_word, static=True)
        if as_json:
            click.echo(render.to_json({"target": target.__dict__, "contextual": [h.to_dict() for h in ctx],
                                       "static": [h.to_dict() for h in st]}))
            return
        if as_csv:
            rows = [{"method": m, **h.to_dict()} for m, hs in (("contextual", ctx), ("static", st)) for h in hs]
            click.echo(render.to_csv(rows), nl=False)
            return
        _say_target(target)
        click.echo(render.compare_table(ctx, st))
        return
    target, hits = si.search(query, k, word, any_word, static)
    if target.how != "marked" or not (as_json or as_csv):
        _say_target(target)
    if as_json:
        click.echo(render.to_json([h.to_dict() for h in hits]))
    elif as_csv:
        click.echo(render.to_csv([h.to_dict() for h in hits]), nl=False)
    else:
        click.echo(render.hits_table(hits, color=sys.stdout.isatty()))


def _say_target(target) -> None:
    how = {"marked": "", "--word": " (from --word)", "rarest": " (the query word with the fewest occurrences)"}
    click.echo(f"target: {target.word} (lemma {target.lemma}){how.get(target.how, '')}", err=True)


@cli.command()
@click.argument("sentences", nargs=-1, required=True)
@click.option("--index", "index_path", help="An index, for the nearest other words of each occurrence.")
@click.option("--model", default=None, help="Model when no --index is given (default mpnet).")
@click.option("-n", "neighbours", default=8, show_default=True, help="Nearest words to list per occurrence.")
@model_options
@output_options
@user_errors
def explain(sentences, index_path, model, neighbours, device, precision, as_json):
    """Show why one vector per word is not enough: cosine of each marked occurrence.

    \b
    senseindex explain "I have a [mole] on my hip" "The [mole] dug under the lawn" --index demo
    """
    if index_path:
        result = SenseIndex.open(index_path, model, device, precision).explain(list(sentences), neighbours)
    else:
        from .encoder import load_encoder
        from .explain import explain as run_explain
        from .static import load_glove

        result = run_explain(load_encoder(model, "last", device, precision), load_glove(), list(sentences))
    click.echo(render.to_json(result) if as_json else render.explain_text(result, color=sys.stdout.isatty()))


@cli.command()
@click.argument("index_path", metavar="INDEX")
@output_options
@user_errors
def info(index_path, as_json):
    """What an index holds: documents, sentences, occurrences, model, size per occurrence."""
    data = SenseIndex.open(index_path).info()
    click.echo(render.to_json(data) if as_json else render.info_text(data))


# --- labelling and evaluation commands (issue 3) ---
@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("query")
@click.option("--word", help="The target word, when the query is not marked with [brackets].")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Labelled neighbours that vote (each with its cosine similarity).")
@click.option("--min-score", default=0.0, show_default=True, type=float,
              help="Neighbours less similar than this do not vote; with none left, the most frequent sense is given.")
@model_options
@output_options
@user_errors
def label(index_path, query, word, k, min_score, device, precision, as_json):
    """Predict the sense of the marked word in QUERY from its nearest labelled occurrences.

    Only occurrences of the same lemma with a gold or review label vote.

    \b
    senseindex label demo "I have a [mole] on my hip"
    """
    from .labeller import predict

    p = predict(SenseIndex.open(index_path, device=device, precision=precision), query, word, k, min_score)
    if as_json:
        click.echo(render.to_json(p.to_dict()))
        return
    _say_target(p.target)
    how = (f"{p.method}: {len(p.neighbours)} nearest of {p.labelled:,} labelled occurrences"
           if p.method == "knn" else f"most frequent sense of {p.labelled:,} labelled occurrences (no neighbour "
           f"scored {min_score} or more)")
    click.echo(f"{p.label}  (confidence {p.confidence:.2f}; {how})")
    if len(p.votes) > 1:
        click.echo("votes: " + ", ".join(f"{lab} {v:.2f}" for lab, v in p.votes.items()))
    if p.neighbours:
        click.echo(render.hits_table(p.neighbours, color=sys.stdout.isatty()))


@cli.group(name="eval")
def eval_group():
    """Measure sense separation on annotated data (CoarseWSD-20, SemCor)."""


@eval_group.command(name="coarsewsd20")
@click.argument("root", metavar="DIR", required=False, type=click.Path())
@click.option("--words", help="Comma-separated subset of the 20 words (default all).")
@click.option("--model", default=None, help="mpnet (default), minilm, a Hugging Face id or a local folder.")
@click.option("--layer", default="last", show_default=True, help="Hidden layer: last, lastN, middle or a number.")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Neighbours for the similarity-weighted contextual-knn method.")
@model_options
@output_options
@user_errors
def eval_coarsewsd20(root, words, model, layer, k, device, precision, as_json):
    """CoarseWSD-20: label each test sentence from the word's training sentences.

    DIR defaults to ../shared/data/coarsewsd20. Methods: nearest training instance, nearest
    sense centroid, k-NN, nearest static GloVe context vector, most frequent sense. Vectors
    are cached under ~/.cache/senseindex; nothing is written into DIR.
    """
    from .evaluate import coarsewsd_table, evaluate_coarsewsd

    chosen = [w.strip() for w in words.split(",") if w.strip()] if words else None

    def progress(word, seconds):
        if not as_json:
            click.echo(f"{word}: {seconds:.1f}s", err=True)

    result = evaluate_coarsewsd(root, chosen, model=model, layer=layer, k=k, device=device, precision=precision,
                                progress=progress)
    click.echo(render.to_json(result) if as_json else coarsewsd_table(result))


@eval_group.command(name="semcor")
@click.argument("index_path", metavar="INDEX")
@click.option("--holdout", default=0.1, show_default=True, type=float,
              help="Share of documents held out (a fixed choice by hash of the document id).")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Neighbours for the similarity-weighted k-NN.")
@output_options
@user_errors
def eval_semcor(index_path, holdout, k, as_json):
    """SemCor: label the gold occurrences of held-out documents from the rest of an index.

    \b
    senseindex index ../shared/data/semcor/semcor30.jsonl.gz --index indexes/semcor -q
    senseindex eval semcor indexes/semcor
    """
    from .evaluate import evaluate_semcor, semcor_text

    result = evaluate_semcor(SenseIndex.open(index_path), holdout, k)
    click.echo(render.to_json(result) if as_json else semcor_text(result))


# --- sense cluster commands (issue 4) ---

def _k_option(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        k = int(value)
    except ValueError:
        raise click.BadParameter("use auto or a number") from None
    if k < 1:
        raise click.BadParameter("must be at least 1")
    return k


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("--k", "k", default="auto", show_default=True, callback=lambda c, p, v: _k_option(v),
              help="Number of senses, or auto (largest jump in the Ward merge tree, k up to 8).")
@click.option("--min-size", type=click.IntRange(1), default=None,
              help="Smallest cluster kept as a sense; smaller ones merge into the nearest (default 1% of occurrences, at least 2).")
@click.option("--seed", default=0, show_default=True, help="Seed for the sample drawn above 4,000 occurrences.")
@click.option("--examples", "-n", default=5, show_default=True, type=click.IntRange(0), help="Representative sentences per sense.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False),
              help="Write a review file: .csv or .jsonl (one row per occurrence, fill `label`) or .html (to read).")
@output_options
@user_errors
def senses(index_path, word, k, min_size, seed, examples, export_path, as_json):
    """Group every occurrence of WORD into senses and describe each group.

    \b
    senseindex senses demo mole
    senseindex senses demo mole --export mole.csv   # fill `label`/`cluster_label`, then:
    senseindex labels import demo mole.csv
    """
    from .review import export_format, export_review
    from .senses import induce_senses, senses_text

    if export_path:
        export_format(export_path)
    si = SenseIndex.open(index_path)
    report = induce_senses(si.store, word, k, min_size, seed, examples)
    exported = export_review(report, export_path) if export_path else None
    if as_json:
        click.echo(render.to_json({**report.to_dict(), "export": exported}))
        return
    click.echo(senses_text(report))
    if exported:
        click.echo(f"\nwrote {exported['rows']:,} rows to {exported['path']}", err=True)


@cli.group()
def labels():
    """Reviewed sense labels: import a review file, export or list what is stored."""


@labels.command("import")
@click.argument("index_path", metavar="INDEX")
@click.argument("file", type=click.Path(dir_okay=False))
@output_options
@user_errors
def labels_import(index_path, file, as_json):
    """Store the labels of a reviewed FILE (.csv or .jsonl from `senses --export`) as source "review".

    A `label` sets one occurrence; a `cluster_label` (on any row of a cluster, or a row with a
    cluster and no occurrence_id) labels the cluster's occurrences that have no label of their
    own. All or nothing: a bad row stops the import and lists the problems.
    """
    from .review import import_review

    result = import_review(SenseIndex.open(index_path).store, file)
    if as_json:
        click.echo(render.to_json(result))
    else:
        click.echo(f"{result['labelled']:,} occurrence(s) labelled ({result['from_cluster_labels']:,} through cluster "
                   f"labels): {result['changed']:,} changed, {result['unchanged']:,} unchanged; "
                   f"{result['unlabelled']:,} row(s) left unlabelled")


@labels.command("export")
@click.argument("index_path", metavar="INDEX")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--source", "sources", multiple=True, type=click.Choice(["review", "gold", "predicted"]),
              help="Only labels from this source (repeatable; default all).")
@click.option("--word", help="Only occurrences of this word's lemma.")
@output_options
@user_errors
def labels_export(index_path, file, sources, word, as_json):
    """Write stored labels (one row per occurrence and source) to FILE (.csv/.jsonl) or print CSV."""
    from .labels import SOURCES
    from .review import export_labels, stored_labels

    rows = stored_labels(SenseIndex.open(index_path).store, tuple(sources) or SOURCES, word)
    if file:
        result = export_labels(rows, file)
        click.echo(render.to_json(result) if as_json else f"wrote {result['rows']:,} labels to {result['path']}")
    elif as_json:
        click.echo(render.to_json(rows))
    else:
        click.echo(render.to_csv(rows), nl=False)


@labels.command("list")
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@output_options
@user_errors
def labels_list(index_path, word, as_json):
    """How many occurrences of WORD carry each label, by source (review, gold, predicted) and in effect."""
    from .review import label_summary, label_summary_text

    summary = label_summary(SenseIndex.open(index_path).store, word)
    click.echo(render.to_json(summary) if as_json else label_summary_text(summary))


@cli.command()
@click.argument("index_path", metavar="INDEX")
@click.argument("word")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Output file: .png or .html.")
@click.option("--color", type=click.Choice(["cluster", "label"]), default="cluster", show_default=True,
              help="Colour points by sense cluster or by stored label.")
@click.option("--projection", type=click.Choice(["pca", "umap"]), default="pca", show_default=True,
              help="2-D projection (umap needs umap-learn).")
@click.option("--k", "k", default="auto", show_default=True, callback=lambda c, p, v: _k_option(v),
              help="Number of clusters, as for `senses`.")
@click.option("--seed", default=0, show_default=True, help="Seed for sampling and the projection.")
@output_options
@user_errors
def plot(index_path, word, out, color, projection, k, seed, as_json):
    """Draw a 2-D map of WORD's occurrences, with the mean (one vector per word) marked."""
    from .plot import plot_data, write_plot
    from .senses import induce_senses

    si = SenseIndex.open(index_path)
    report = induce_senses(si.store, word, k, None, seed)
    result = write_plot(plot_data(si.store, report, color, projection, seed), out)
    click.echo(render.to_json(result) if as_json else f"wrote {result['points']:,} points to {result['path']}")
