"""Lemma rules on top of spaCy: the lexicon's plurals, compounds, verb phrases; indexes of older lemmas."""

from __future__ import annotations

import pytest

from senseindex import SenseIndex
from senseindex.errors import SenseIndexError
from senseindex.text.tagging import (
    noun_lemma,
    singular,
    tag_spans,
    tagger_name,
)


def lemma(text: str, word: str) -> str:
    start = text.index(word)
    return tag_spans([text], [[(start, start + len(word))]])[0][0].lemma


@pytest.mark.parametrize(("plural", "single"), [
    ("children", "child"), ("men", "man"), ("feet", "foot"), ("teeth", "tooth"), ("mice", "mouse"),  # irregular
    ("cities", "city"), ("antibodies", "antibody"), ("impurities", "impurity"),  # -ies
    ("wolves", "wolf"), ("knives", "knife"), ("halves", "half"), ("lives", "life"),  # -ves
    ("crises", "crisis"), ("analyses", "analysis"), ("buses", "bus"), ("vases", "vase"), ("senses", "sense"),  # -ses
    ("phenomena", "phenomenon"), ("criteria", "criterion"), ("larvae", "larva"), ("sera", "serum"),  # Latin, Greek
    ("news", "news"), ("species", "species"), ("politics", "politics"),  # the plural form is the lemma
])
def test_singular_from_the_lexicon(plural, single):
    assert singular(plural) == single


def test_singular_by_regular_rules_for_words_the_lexicon_lacks():
    assert [singular(w) for w in ("zorblaxes", "flurbies", "quonks", "blatches", "gloss", "cactus", "bus")] == \
        ["zorblax", "flurby", "quonk", "blatch", "gloss", "cactus", "bus"]


def test_the_lexicon_reads_as_lemminflect_does():
    import lemminflect

    from senseindex.text.tagging import _lexicon

    for word in ("glasses", "leaves", "Americans", "americans", "sera", "'d", "her", "installed", "Motors", "zzz"):
        for upos in ("NOUN", "VERB", "ADJ", "AUX", "PROPN"):
            ref = lemminflect.getAllLemmas(word, upos).get("NOUN" if upos == "PROPN" else upos, ())
            assert _lexicon(word, upos) == tuple(dict.fromkeys(f.lower() for f in ref)), (word, upos)


def test_noun_lemma_by_tag():
    assert noun_lemma("vases", "NNS", "vas") == "vase"  # spaCy's rules: vas
    assert noun_lemma("taxes", "NNS", "tax") == "tax"  # the lexicon lists tax and taxis: the tagger's wins
    assert noun_lemma("Americans", "NNPS") == "american"
    assert noun_lemma("sera", "NN") == "serum" and noun_lemma("means", "NN") == "means"  # NN: only a plural moves
    assert noun_lemma("media", "NN") == "media"  # a singular too (the lexicon lists media itself)


def test_lemmas_in_context():
    assert lemma("The sera were frozen at once", "sera") == "serum"
    assert lemma("Many Americans voted for him", "Americans") == "american"
    assert lemma("The vases stood on the shelf", "vases") == "vase"
    assert lemma("She was singing in the rain", "singing") == "sing"  # spaCy: singe
    assert lemma("They installed the pumps", "installed") == "install"  # spaCy: instal
    assert lemma("The meeting was on Dec. 12", "Dec.") == "dec"
    assert lemma("I 'm sure", "'m") == "be"


def test_hyphenated_compounds():
    assert lemma("The re-election of the mayor", "re-election") == "re-election"  # re- keeps its hyphen
    assert lemma("He was re-elected twice", "re-elected") == "re-elect"
    assert lemma("Bells rang for change-ringing", "change-ringing") == "change-ringing"
    assert lemma("The fire-crackers went off", "fire-crackers") == "firecracker"  # the lexicon has it only solid
    assert lemma("He bought a saw-horse", "saw-horse") == "sawhorse"
    assert lemma("Two bull's-eyes in a row", "bull's-eyes") == "bull's-eye"


def test_multiword_spans():
    assert lemma("The sales forces met", "sales forces") == "sales force"  # the head only is inflected
    assert lemma("He met the board of directors", "board of directors") == "board of directors"
    assert lemma("They were men of letters", "men of letters") == "man of letters"
    assert lemma("The wave lengths of light differ", "wave lengths") == "wavelength"  # noun + noun, solid in
    assert lemma("She went to a night club", "night club") == "nightclub"  # the lexicon
    assert lemma("It is made of reinforced concrete", "reinforced concrete") == "reinforced concrete"
    assert lemma("He called the hearing officers", "hearing officers") == "hearing officer"  # a participle
    assert lemma("The meeting was taking place", "taking place") == "take place"  # after a determiner
    assert lemma("It took 30 minutes or two weeks", "30 minutes") == "30 minutes"  # a number agrees
    assert lemma("It took 30 minutes or two weeks", "two weeks") == "two weeks"
    assert lemma("He was born in May", "was born") == "be born"  # a verb phrase inflects its verb only
    assert lemma("The election took place in May", "took place") == "take place"
    assert lemma("They took pains to hide it", "took pains") == "take pains"
    assert lemma("He works for General Motors in Detroit", "General Motors") == "general motors"  # a name
    assert lemma("The North Koreans attacked", "North Koreans") == "north korean"  # a people


def test_an_index_of_older_lemmas_says_to_reindex(tmp_path, hash_encoder):
    name = tagger_name()
    assert name.startswith("spacy-") and "+lemminflect-" in name
    corpus = tmp_path / "c.txt"
    corpus.write_text("Many Americans voted for him.\n\nThe vases stood on the shelf.\n", encoding="utf-8")
    si = SenseIndex.open_or_create(tmp_path / "idx", encoder=hash_encoder)
    si.add([corpus])
    assert si.require_indexed("vases") == "vase" and si.require_indexed("Americans") == "american"
    # an index made before the lexicon rules (spaCy's lemmas alone): a lemma it lacks is one line
    # that names its lemmatiser and says to re-index, not a search under another lemma
    si.store.db.execute("update lemmas set lemma = 'vas' where lemma = 'vase'")
    si.store.manifest["lemmatiser"] = "spacy-3.8.18/en_core_web_sm-3.8.0"
    with pytest.raises(SenseIndexError, match="re-index"):
        si.require_indexed("vases")
