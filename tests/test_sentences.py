"""Sentence splitting (senseindex.text.sentences): the (offset, stripped sentence) contract and hard cases."""

import time

import pytest

from senseindex.text.sentences import MAX_SENTENCE_CHARS, split_sentences


def sents(text: str) -> list[str]:
    return [s for _, s in split_sentences(text)]


def assert_contract(text: str) -> list[tuple[int, str]]:
    """Offsets point at each sentence, in order, at its first non-space char; nothing is blank."""
    pairs = split_sentences(text)
    prev_end = 0
    for off, s in pairs:
        assert s and s == s.strip()
        assert text[off : off + len(s)] == s
        assert off >= prev_end and not text[prev_end:off].strip()  # only whitespace skipped between
        prev_end = off + len(s)
    assert not text[prev_end:].strip()  # nothing lost at the end
    return pairs


def test_titles_and_latin_abbreviations_stay_inside():
    text = "Mr. Smith met Dr. Jones at noon. They talked, e.g. about moles, mice, etc. and more. Mrs. Brown left."
    assert sents(text) == [
        "Mr. Smith met Dr. Jones at noon.",
        "They talked, e.g. about moles, mice, etc. and more.",
        "Mrs. Brown left.",
    ]


def test_title_right_after_a_sentence_end():
    assert sents("He left early. Mr. Smith came later.") == ["He left early.", "Mr. Smith came later."]
    assert sents("I met Dr. Who. Dr. Watson was there.") == ["I met Dr. Who.", "Dr. Watson was there."]


def test_initials():
    assert sents("The book is by J. R. R. Tolkien. It is long.") == [
        "The book is by J. R. R. Tolkien.", "It is long."]
    assert sents("It was long. J. R. R. Tolkien wrote it.") == ["It was long.", "J. R. R. Tolkien wrote it."]


def test_decimals_and_numbers():
    assert sents("Pi is about 3.14 today. It was 2.5 yesterday.") == [
        "Pi is about 3.14 today.", "It was 2.5 yesterday."]
    assert sents("It costs $5.50. OK? Is it 3.14? Yes.") == ["It costs $5.50.", "OK?", "Is it 3.14?", "Yes."]
    assert sents("It ended in 1999. 2000 came next.") == ["It ended in 1999.", "2000 came next."]


def test_exclamation_and_question_marks():
    assert sents("It was benign! Was it? Yes!! Really?! Fine.") == [
        "It was benign!", "Was it?", "Yes!!", "Really?!", "Fine."]


def test_quotes_straight_and_curly():
    assert sents('He said, "Go home." She did.') == ['He said, "Go home."', "She did."]
    assert sents('"Hit the bum!" somebody yelled. Then it ended.') == [
        '"Hit the bum!" somebody yelled.', "Then it ended."]
    assert sents("\u201cReally?\u201d she asked. \u201cYes.\u201d") == ["\u201cReally?\u201d she asked.", "\u201cYes.\u201d"]
    assert sents("It was good.\u201d Then he left. (See below.) Done.") == [
        "It was good.\u201d", "Then he left.", "(See below.)", "Done."]


def test_no_split_without_space_or_before_lowercase():
    assert sents("Version 2.0.1 of file.txt is out. see the notes.") == [
        "Version 2.0.1 of file.txt is out. see the notes."]
    assert sents("Hello world") == ["Hello world"]


def test_offsets_point_at_the_sentences():
    text = "  First one.   Second\none!\n\n\tThird?  \u201cFourth.\u201d Dr. Fifth ends  "
    pairs = assert_contract(text)
    assert [s for _, s in pairs] == ["First one.", "Second\none!", "Third?", "\u201cFourth.\u201d", "Dr. Fifth ends"]
    assert [off for off, _ in pairs] == [2, 15, 29, 37, 47]


@pytest.mark.parametrize("text", ["", " ", "   \n\t  ", "\n\n"])
def test_empty_and_whitespace_text(text):
    assert split_sentences(text) == []


def test_long_text_is_split_fully_and_fast():
    parts = [f"Sentence number {i} mentions Mr. Smith and 3.{i} moles! Is it {i}?" for i in range(10_000)]
    text = " ".join(parts)
    t = time.perf_counter()
    pairs = assert_contract(text)
    elapsed = time.perf_counter() - t
    assert len(pairs) == 20_000
    assert pairs[-1][1] == "Is it 9999?"
    assert elapsed < 10  # about 0.1 s on the 2-core dev machine; a quadratic splitter would take minutes
    run_on = "word " * 50_000  # one very long sentence without any punctuation: cut at spaces into pieces
    pieces = split_sentences(run_on)
    assert len(pieces) == 25 and all(len(p) <= MAX_SENTENCE_CHARS for _, p in pieces)
    assert " ".join(p for _, p in pieces) == run_on.strip() and pieces[1][0] == len(pieces[0][1]) + 1


def test_no_is_an_abbreviation_only_before_a_number():
    assert sents("Oh no. She had reason.") == ["Oh no.", "She had reason."]
    assert sents("See No. 5 in the list. It is short.") == ["See No. 5 in the list.", "It is short."]


def test_dotted_acronyms_do_not_end_a_sentence():
    assert sents("The U.S. Army left. It rained.") == ["The U.S. Army left.", "It rained."]
    assert sents("Gov. Smith spoke. Sen. Jones replied.") == ["Gov. Smith spoke.", "Sen. Jones replied."]
    assert sents("It ends at 6 p.m. The lights go out.") == ["It ends at 6 p.m.", "The lights go out."]
