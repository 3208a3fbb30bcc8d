"""CoNLL-U, VRT and TEI readers on small hand-written files (tests/data/corpora)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from senseindex.errors import CorpusError
from senseindex.text.corpus import ReadOptions, path_metadata, read_sentences, resolve_sources
from senseindex.text.tagsets import penn_tag

DATA = Path(__file__).parent / "data" / "corpora"


def words(sentence):
    return [(sentence.text[t.start:t.end], t.lemma, t.pos) for t in sentence.tokens]


def test_conllu_multiword_tokens_empty_nodes_and_documents():
    s1, s2, s3 = read_sentences(DATA / "ud_small.conllu")
    # SpaceAfter=No rebuilds the text; the words of "don't" span their own letters
    assert s1.text == "I don't like the bank."
    assert s1.section == "d1" and s1.line == 1
    assert words(s1)[1:3] == [("do", "do", "VBP"), ("n't", "not", "RB")]
    assert ("bank", "bank", "NN") in words(s1)
    # the empty node 5.1 has no surface form: it is no token, but its line is kept for export
    assert s2.text == "Sue saw and Mary heard the crane"
    assert [t.word for t in s2.tokens].count("saw") == 1
    assert any(line.startswith("5.1\t") for line, *_ in s2.layout["l"])
    # "al" = a + el: "a" is a piece of it, "el" is not, so "el" spans the whole surface form
    assert s3.section == "d2"
    al = [(t.start, t.end, t.lemma) for t in s3.tokens if t.lemma in ("a", "el")]
    assert al == [(12, 13, "a"), (12, 14, "el")] or al == [(12, 14, "a"), (12, 14, "el")]
    # no lemma or tag in the corpus: the reader says so (the tagger tags none of this file's
    # sentences, since its others have tags)
    assert not s3.needs_tags


def test_conllu_malformed_lines_name_file_and_line(tmp_path):
    with pytest.raises(CorpusError, match=r"bad\.conllu:1: .*10 tab-separated columns"):
        list(read_sentences(DATA / "bad.conllu"))
    f = tmp_path / "ids.conllu"
    f.write_text("1\ta\ta\tX\t_\t_\t_\t_\t_\t_\n3\tb\tb\tX\t_\t_\t_\t_\t_\t_\n")
    with pytest.raises(CorpusError, match=r"ids\.conllu:2: word id 3 where 2 was expected"):
        list(read_sentences(f))
    f.write_text("x\ta\ta\tX\t_\t_\t_\t_\t_\t_\n")
    with pytest.raises(CorpusError, match=r"ids\.conllu:1: bad token id"):
        list(read_sentences(f))


def test_vrt_attributes_structures_and_metadata():
    s1, s2, s3 = read_sentences(DATA / "corpus_small.vrt")
    assert s1.text == "The mouse ran New York ."
    assert (s1.section, s1.meta) == ("t1", {"year": "1985", "genre": "news"})
    assert words(s1)[1] == ("mouse", "mouse", "NN")
    # a nested <ne> inside the sentence stays in its layout, the <s>'s attributes too
    assert ["<ne type=\"place\">", -1, -1] in s1.layout["l"] and s1.layout["s"] == '<s id="s1">'
    assert s2.text == "Click the mouse & drag"  # &amp; decoded
    assert s3.meta == {"year": "2001", "genre": "tech"} and s3.section == "t2"


def test_vrt_words_only_gets_tagged_and_sentences_without_s():
    s1, s2 = read_sentences(DATA / "words_only.vrt")
    assert s1.text == "The cat chased the mouse ." and s2.text == "It ran away ."
    assert s1.needs_tags and s1.meta == {"year": "1990"}


def test_vrt_declared_attributes_override_header(tmp_path):
    f = tmp_path / "c.vrt"
    f.write_text("<text id=\"x\">\n<s>\nbanks\tNNS\tbank\n</s>\n</text>\n")
    (s,) = read_sentences(f, ReadOptions(vrt_attrs=("word", "pos", "lemma")))
    assert words(s) == [("banks", "bank", "NNS")]


def test_vrt_malformed():
    with pytest.raises(CorpusError, match=r"bad_attrs\.vrt:3: 2 positional attributes; name them"):
        list(read_sentences(DATA / "bad_attrs.vrt"))
    with pytest.raises(CorpusError, match=r"bad_nesting\.vrt:4: </p> where </s> \(opened at line 2\)"):
        list(read_sentences(DATA / "bad_nesting.vrt"))


def test_vrt_unclosed_and_wrong_width(tmp_path):
    f = tmp_path / "u.vrt"
    f.write_text("<!-- #vrt positional-attributes: word lemma -->\n<text>\n<s>\na\ta\n")
    with pytest.raises(CorpusError, match=r"u\.vrt: <s> opened at line 3 is never closed"):
        list(read_sentences(f))
    f.write_text("<!-- #vrt positional-attributes: word lemma -->\n<s>\na\ta\tb\n</s>\n")
    with pytest.raises(CorpusError, match=r"u\.vrt:3: 3 positional attributes where 2 are declared"):
        list(read_sentences(f))


def test_tei_bnc_words_lemmas_and_punctuation():
    s1, s2, s3 = read_sentences(DATA / "bnc_small.xml")
    assert s1.text == "Bank rates" and s1.section == "A00"
    assert s1.meta == {"type": "NONAC", "date": "1991"}
    assert s2.text == "The mouse ran."  # the space inside <w>word </w> is kept, none before <c>
    assert words(s2) == [("The", "the", "DT"), ("mouse", "mouse", "NN"), ("ran", "run", "VBD"), (".", None, ".")]
    assert s3.text == "of course, it banked!"
    assert ("banked", "bank", "VBD") in words(s3)


def test_tei_lemma_pos_and_plain_paragraphs():
    s1, s2, s3 = read_sentences(DATA / "tei_lemma.xml")
    assert words(s1)[0] == ("Cranes", "crane", "NN") and s1.meta == {"year": "2010"} and s1.section == "doc9"
    assert [s2.text, s3.text] == ["A plain paragraph without words.", "It has two sentences."]
    assert s2.tokens is None  # plain text: tagged like a .txt sentence


def test_tei_malformed_and_gzipped(tmp_path):
    with pytest.raises(CorpusError, match=r"bad\.xml:2: malformed XML \(mismatched tag"):
        list(read_sentences(DATA / "bad.xml"))
    gz = tmp_path / "b.xml.gz"
    gz.write_bytes(gzip.compress((DATA / "bnc_small.xml").read_bytes()))
    assert len(list(read_sentences(gz))) == 3
    assert resolve_sources([tmp_path]) == [gz]


def test_tag_mapping():
    assert [penn_tag(t) for t in ("NOUN", "PROPN", "VERB", "ADJ", "ADV", "AUX")] == ["NN", "NNP", "VB", "JJ", "RB", "VB"]
    assert [penn_tag(t) for t in ("NN2", "NP0", "VVD", "VBZ", "VHG", "AJ0", "AV0", "NN1-VVB")] == \
        ["NNS", "NNP", "VBD", "VBZ", "VBG", "JJ", "RB", "NN"]
    assert [penn_tag(t) for t in ("SUBST", "VERB", "ADJ")] == ["NN", "VB", "JJ"]
    assert penn_tag("NOUN", "NNS") == "NNS"  # an English treebank's Penn XPOS wins


def test_path_pattern_metadata(tmp_path):
    assert path_metadata(Path("c/news/1994-07.txt"), "{genre}/{year}-*.txt") == {"genre": "news", "year": "1994"}
    assert path_metadata(Path("c/1994.txt"), "{genre}/{year}-*.txt") is None
    f = tmp_path / "fiction" / "2003-a.txt"
    f.parent.mkdir()
    f.write_text("A crane flew.\n")
    (s,) = read_sentences(f, ReadOptions(meta_path="{genre}/{year}-*.txt"))
    assert s.meta == {"genre": "fiction", "year": "2003"}


def test_jsonl_and_csv_metadata_fields(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "One mole.", "year": 1990, "genre": "sci"}\n')
    (tmp_path / "b.csv").write_text("text,year\nA bank.,2001\n")
    opts = ReadOptions(meta_fields=("year", "genre"))
    (s,) = read_sentences(tmp_path / "a.jsonl", opts)
    assert s.meta == {"year": 1990, "genre": "sci"}
    with pytest.raises(CorpusError, match=r"b\.csv:1: no metadata column 'genre'"):
        list(read_sentences(tmp_path / "b.csv", opts))
    (s,) = read_sentences(tmp_path / "b.csv", ReadOptions(meta_fields=("year",)))
    assert s.meta == {"year": "2001"}


def test_streaming_reader_memory_is_flat(tmp_path):
    """A VRT ten times larger reads in about the same peak memory (one sentence at a time)."""
    import tracemalloc

    def peak(n: int) -> int:
        f = tmp_path / f"big{n}.vrt"
        with open(f, "w") as fh:
            fh.write("<!-- #vrt positional-attributes: word lemma pos -->\n<text id=\"a\" year=\"1990\">\n")
            for _ in range(n):
                fh.write("<s>\nThe\tthe\tDT\nbank\tbank\tNN\nlent\tlend\tVBD\nmoney\tmoney\tNN\n.\t.\t.\n</s>\n")
            fh.write("</text>\n")
        tracemalloc.start()
        count = sum(1 for _ in read_sentences(f))
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == n
        return size

    small, large = peak(2_000), peak(20_000)
    assert large < small * 1.5 + 200_000
