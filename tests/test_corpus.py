"""Corpus reading: formats, sentence splitting, line numbers and bad input (no model needed)."""

import gzip
import json

import pytest

from senseindex.errors import CorpusError
from senseindex.indexer import CHUNK_CHARS
from senseindex.text.corpus import ReadOptions, read_sentences, resolve_sources, split_sentences
from senseindex.text.sentences import MAX_SENTENCE_CHARS, cut_long
from senseindex.text.words import find_words, lemmatize


def test_split_sentences_keeps_abbreviations():
    text = "Dr. Smith removed the mole. It was benign! Was it? Yes, said J. R. Jones."
    assert [s for _, s in split_sentences(text)] == [
        "Dr. Smith removed the mole.", "It was benign!", "Was it?", "Yes, said J. R. Jones."]


def test_txt_paragraphs_and_line_numbers(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("The mole dug a tunnel.\nIt was\nvery long.\n\nA second paragraph here.\n")
    sents = list(read_sentences(f))
    assert [(s.text, s.line) for s in sents] == [
        ("The mole dug a tunnel.", 1), ("It was very long.", 2), ("A second paragraph here.", 5)]


def test_jsonl_csv_tsv_gz(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"body": "One mole. Two moles.", "id": "d1"}) + "\n")
    (tmp_path / "b.csv").write_text('id,content\n1,"A bank, by the river."\n')
    (tmp_path / "c.tsv").write_text("content\nThe crane lifted steel.\n")
    with gzip.open(tmp_path / "d.txt.gz", "wt") as fh:
        fh.write("Compressed text works.\n")
    opts = ReadOptions(text_field="body", text_column="content")
    assert [s.text for s in read_sentences(tmp_path / "a.jsonl", opts)] == ["One mole.", "Two moles."]
    assert [s.section for s in read_sentences(tmp_path / "a.jsonl", opts)] == ["d1", "d1"]
    assert [s.text for s in read_sentences(tmp_path / "b.csv", opts)] == ["A bank, by the river."]
    assert [s.text for s in read_sentences(tmp_path / "c.tsv", opts)] == ["The crane lifted steel."]
    assert [s.text for s in read_sentences(tmp_path / "d.txt.gz")] == ["Compressed text works."]


def test_pretokenised_jsonl(tmp_path):
    rec = {"tokens": ["He", "took place", "moles"], "lemma": [None, "take place", "mole"],
           "sense": [None, None, "mole%1:05:00::"], "doc": "br-a01"}
    (tmp_path / "p.jsonl").write_text(json.dumps(rec) + "\n")
    (s,) = read_sentences(tmp_path / "p.jsonl")
    assert s.text == "He took place moles" and s.section == "br-a01"
    assert [(t.word, s.text[t.start:t.end], t.sense) for t in s.tokens][2] == ("moles", "moles", "mole%1:05:00::")


def test_directory_recursive_with_include(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_text("x.")
    (tmp_path / "y.md").write_text("ignored")
    assert [p.name for p in resolve_sources([tmp_path])] == ["x.txt"]
    assert resolve_sources([tmp_path], include=["*.md"])[0].name == "y.md"


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "no readable files"),
    ],
)
def test_bad_sources(tmp_path, setup, message):
    p = tmp_path / "corpus"
    setup(p)
    with pytest.raises(CorpusError, match=message):
        resolve_sources([p])


def test_undecodable_bytes_name_file_and_line(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_bytes(b"Fine line.\nAnother fine line.\nBroken \xff byte.\n")
    with pytest.raises(CorpusError, match=r"bad.txt:3: cannot decode byte 0xff"):
        list(read_sentences(f))
    assert [s.text for s in read_sentences(f, ReadOptions(errors="replace"))][-1] == "Broken \ufffd byte."
    assert list(read_sentences(f, ReadOptions(encoding="latin-1")))[-1].text == "Broken ÿ byte."


def test_binary_and_bad_json(tmp_path):
    b = tmp_path / "b.txt"
    b.write_bytes(b"\x00\x01\x02PK\x03\x04" * 10)
    with pytest.raises(CorpusError, match="binary"):
        list(read_sentences(b))
    j = tmp_path / "j.jsonl"
    j.write_text('{"text": "ok."}\n{not json\n')
    with pytest.raises(CorpusError, match=r"j.jsonl:2: invalid JSON"):
        list(read_sentences(j))
    (tmp_path / "k.jsonl").write_text('{"body": "x"}\n')
    with pytest.raises(CorpusError, match=r"k.jsonl:1: no field 'text'"):
        list(read_sentences(tmp_path / "k.jsonl"))


def test_words_and_lemmas():
    words = [w for _, _, w in find_words("The moles were digging ten-pound holes in O'Brien's lawn.")]
    assert words == ["moles", "digging", "ten-pound", "holes", "O'Brien's", "lawn"]  # hyphenated: one word
    assert lemmatize("moles") == "mole" and lemmatize("Banks") == "bank"


def test_a_file_of_lines_without_blank_lines_is_read_in_linear_time(tmp_path):
    """Found by `bench/faults.py memory`: a 100,000-line file with no blank line is one paragraph,
    and finding each sentence's line scanned every line (quadratic: nothing indexed in 15 min)."""
    import time

    f = tmp_path / "lines.txt"
    f.write_text("".join(f"The mole number {i} dug a tunnel.\n" for i in range(30_000)), encoding="utf-8")
    t0 = time.perf_counter()
    sents = list(read_sentences(f))
    seconds = time.perf_counter() - t0
    assert len(sents) == 30_000
    assert [s.line for s in sents[:3]] == [1, 2, 3] and sents[-1].line == 30_000
    assert sents[12_345].text == "The mole number 12345 dug a tunnel." and sents[12_345].line == 12_346
    assert seconds < 20, f"{seconds:.1f} s for 30,000 lines (quadratic again?)"


def test_a_sentence_longer_than_the_limit_is_cut_at_whitespace(tmp_path):
    """Found by the fuzz bench profile: a line of a megabyte without a full stop was one sentence
    of 200,000 words, and indexing it took 3.5 GB (the fuzz run grew to 23 GB and was killed)."""
    text = " ".join(f"mole{i % 97} bank" for i in range(60_000))  # ~660,000 characters, no full stop
    pieces = split_sentences(text)
    assert len(pieces) > 60 and all(len(p) <= MAX_SENTENCE_CHARS for _, p in pieces)
    assert all(text[o:o + len(p)] == p for o, p in pieces)  # offsets point at the text
    assert " ".join(p for _, p in pieces) == text  # cut at spaces only: nothing lost or changed
    assert cut_long(5, "x" * 25, limit=10) == [(5, "x" * 10), (15, "x" * 10), (25, "x" * 5)]  # no space: cut anyway
    assert cut_long(0, "ab cd ef", limit=5) == [(0, "ab cd"), (6, "ef")]
    f = tmp_path / "line.txt"
    f.write_text(text + "\n", encoding="utf-8")
    assert [s.text for s in read_sentences(f)] == [p for _, p in pieces]
    assert split_sentences("A short one. Another one.") == [(0, "A short one."), (13, "Another one.")]


def test_a_pretokenised_sentence_longer_than_the_limit_is_refused_with_its_line(tmp_path):
    f = tmp_path / "long.jsonl"
    f.write_text(json.dumps({"tokens": ["ok"]}) + "\n" + json.dumps({"tokens": ["mole"] * 5_000}) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"long\.jsonl:2: a pre-tokenised sentence of 24,999 characters"):
        list(read_sentences(f))


@pytest.mark.slow
def test_chunks_are_bounded_by_characters(tmp_path, hash_encoder):
    """Long sentences make smaller chunks, so the memory of encoding one stays bounded."""
    from senseindex import SenseIndex

    f = tmp_path / "long.txt"
    f.write_text("".join(" ".join(["The mole dug"] * 700) + ".\n\n" for _ in range(30)), encoding="utf-8")
    calls = []
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    report = si.add([f], progress=lambda sentences, occurrences: calls.append(sentences))
    assert report.sentences == 30 and sum(calls) == 30
    assert max(calls) <= CHUNK_CHARS // 9_000 + 1 and len(calls) >= 2  # 30 x 9,100 characters: several chunks
