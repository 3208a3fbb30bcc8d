"""A corpus's own part-of-speech tags mapped to the tool's: Penn tags, as the tagger writes them.

Why Penn: the index stores one Penn tag per occurrence and compares senses within one class
(`tagging.pos_class`: NN* noun, VB* verb, JJ* adjective, RB* adverb). A corpus that brings its
own tags (CoNLL-U's UPOS and XPOS, a VRT `pos` column, the BNC's `c5` and `pos` attributes) keeps
them, mapped here once, so the tagger runs only where a corpus has none. docs/corpus-formats.md
states the mapping for readers.
"""

from __future__ import annotations

from functools import lru_cache

# Universal POS (UD v2) -> Penn. AUX counts as a verb (a stopword all the same: be, have, will).
UPOS_PENN = {"NOUN": "NN", "PROPN": "NNP", "VERB": "VB", "AUX": "VB", "ADJ": "JJ", "ADV": "RB", "NUM": "CD",
             "PRON": "PRP", "DET": "DT", "ADP": "IN", "CCONJ": "CC", "SCONJ": "IN", "PART": "RP", "INTJ": "UH",
             "PUNCT": ".", "SYM": "SYM", "X": "FW"}
# The BNC XML edition's simplified `pos` attribute -> Penn.
BNC_POS_PENN = {"SUBST": "NN", "VERB": "VB", "ADJ": "JJ", "ADV": "RB", "ART": "DT", "CONJ": "CC", "INTERJ": "UH",
                "PREP": "IN", "PRON": "PRP", "STOP": ".", "UNC": "FW"}
# CLAWS5 (the BNC's `c5`) -> Penn; an ambiguity tag ("NN1-VVB") counts as its first part.
C5_PENN = {"NN0": "NN", "NN1": "NN", "NN2": "NNS", "NP0": "NNP", "AJ0": "JJ", "AJC": "JJR", "AJS": "JJS",
           "AV0": "RB", "AVP": "RP", "AVQ": "WRB", "VM0": "MD", "CRD": "CD", "ORD": "JJ", "AT0": "DT", "DT0": "DT",
           "DTQ": "WDT", "DPS": "PRP$", "PNP": "PRP", "PNI": "NN", "PNQ": "WP", "PNX": "PRP", "PRP": "IN",
           "PRF": "IN", "CJC": "CC", "CJS": "IN", "CJT": "IN", "ITJ": "UH", "PUN": ".", "PUL": "(", "PUR": ")",
           "PUQ": "''", "POS": "POS", "TO0": "TO", "XX0": "RB", "ZZ0": "NN", "UNC": "FW", "EX0": "EX"}
_C5_VERB = {"B": "VBP", "D": "VBD", "G": "VBG", "I": "VB", "N": "VBN", "Z": "VBZ"}  # VVB, VBD, VDG, VHI, ...
PENN_TAGS = frozenset("""CC CD DT EX FW IN JJ JJR JJS LS MD NN NNS NNP NNPS PDT POS PRP PRP$ RB RBR RBS RP SYM TO
UH VB VBD VBG VBN VBP VBZ WDT WP WP$ WRB . , : `` '' ( ) -LRB- -RRB- HYPH NFP ADD AFX XX $ #""".split())
_PENN_UPOS = (("NNP", "PROPN"), ("NN", "NOUN"), ("VB", "VERB"), ("MD", "AUX"), ("JJ", "ADJ"), ("RB", "ADV"),
              ("CD", "NUM"), ("PRP", "PRON"), ("WP", "PRON"), ("DT", "DET"), ("WDT", "DET"), ("IN", "ADP"),
              ("CC", "CCONJ"), ("UH", "INTJ"))


@lru_cache(maxsize=4096)
def penn_tag(tag: str | None, xpos: str | None = None) -> str | None:
    """A corpus tag as a Penn tag: an XPOS that is already Penn (English UD treebanks) wins; then
    UPOS, CLAWS5 and the BNC's simplified classes; a Penn tag passes as it is; anything else
    (another language's tagset) is kept as written, which the tool reads as no class ("x")."""
    for t in (xpos, tag):
        if t and t in PENN_TAGS:
            return t
    if not tag or tag == "_":
        return None
    up = tag.upper()
    if up in UPOS_PENN:
        return UPOS_PENN[up]
    if up in BNC_POS_PENN:
        return BNC_POS_PENN[up]
    c5 = up.split("-")[0]
    if c5 in C5_PENN:
        return C5_PENN[c5]
    if len(c5) == 3 and c5[0] == "V" and c5[1] in "VBDH" and c5[2] in _C5_VERB:
        return _C5_VERB[c5[2]]
    return tag


# Forms of be, have and do: auxiliaries in UD. Penn tags them VB* whether they are auxiliaries
# or main verbs, so a corpus with Penn tags only has them read as auxiliaries (stopwords), as the
# tagger reads them most of the time; "have a car" loses its occurrence of have.
_AUX_FORMS = frozenset("be am is are was were been being 's 're 'm have has had having 've 'd do does did doing"
                       .split())


def universal_tag(tag: str | None, penn: str | None, word: str | None = None) -> str | None:
    """The universal tag of a token: the corpus's own where it is one, else read off its Penn tag
    (what the stopword rule asks: "can" the noun is indexed, "can" the modal is not)."""
    if tag and tag.upper() in UPOS_PENN:
        return tag.upper()
    if penn and penn.startswith("VB") and word and word.lower() in _AUX_FORMS:
        return "AUX"
    return _from_penn(penn)


@lru_cache(maxsize=4096)
def _from_penn(penn: str | None) -> str | None:
    for prefix, upos in _PENN_UPOS:
        if penn and penn.startswith(prefix):
            return upos
    return None
