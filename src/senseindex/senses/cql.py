"""A subset of CQL (Sketch Engine, CWB/CQPweb, BlackLab) for the target token of a concordance.

Supported: one token `[ ... ]` with conditions `attr="regex"` and `attr!="regex"`, joined by
`&` (and) and `|` (or; `&` binds tighter), negated with `!`, grouped with parentheses; `%c`
after a string makes it case-insensitive. Attributes: `word` (the form as written), `lemma`,
`pos` (universal: NOUN, PROPN, VERB, ADJ, ADV; X for anything else), `tag` (the stored Penn tag)
and `label` (the sense label in effect). As in CQL, a regex must match the whole value
(`[word="banks?"]` matches bank and banks, not embankment).

Sequences (`[lemma="take"] [lemma="place"]`) match tokens that are adjacent in the text (no
other token between them, punctuation aside), each an indexed occurrence: the index stores only
its content words as occurrences, so a token of a sequence cannot be a stopword or a number
(`[lemma="take"] [word="the"]` matches nothing). The first token is the line's target (ranked
by it), the whole match is highlighted. Not supported, with a clear error: `[]`, repetition and
`within`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from senseindex.errors import SenseIndexError

ATTRIBUTES = ("word", "lemma", "pos", "tag", "label")
REGEX_CHARS = set(".^$*+?{}[]\\|()")


class CQLError(SenseIndexError):
    """A query that does not parse; the one-line message names the position (1-based) and marks it with ‸."""


@dataclass(frozen=True)
class Cond:
    attr: str
    negated: bool  # != rather than =
    pattern: str
    ignore_case: bool = False

    def regex(self) -> re.Pattern:
        return re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)


@dataclass(frozen=True)
class Node:
    op: str  # "and", "or", "not"
    parts: tuple


@dataclass(frozen=True)
class TokenQuery:
    text: str
    expr: Cond | Node | None  # the first token's conditions: the target of each line
    following: tuple = ()  # the conditions of the tokens right after it, in order (a sequence)

    @property
    def length(self) -> int:
        return 1 + len(self.following)

    def lemmas(self, all_lemmas: Callable[[], list[str]]) -> list[str] | None:
        """The lemmas a match must have, when the query says (a lemma condition that every match
        needs); None when any lemma may match."""
        conds = _required(self.expr)
        lemma_conds = [c for c in conds if c.attr == "lemma" and not c.negated]
        if not lemma_conds:
            return None
        literal = [c for c in lemma_conds if not (set(c.pattern) & REGEX_CHARS) and not c.ignore_case]
        if literal:
            return [literal[0].pattern]
        rx = lemma_conds[0].regex()
        return [x for x in all_lemmas() if rx.fullmatch(x)]

    def matcher(self, expr=None) -> Callable[[Callable[[str], str]], bool]:
        """A predicate over an occurrence (the first token's, or `expr`'s), given as a function
        attribute name -> value."""
        compiled: dict[Cond, re.Pattern] = {}
        expr = self.expr if expr is None else expr

        def ev(e, get) -> bool:
            if isinstance(e, Cond):
                rx = compiled.get(e) or compiled.setdefault(e, e.regex())
                return bool(rx.fullmatch(get(e.attr))) != e.negated
            if e.op == "not":
                return not ev(e.parts[0], get)
            if e.op == "and":
                return all(ev(p, get) for p in e.parts)
            return any(ev(p, get) for p in e.parts)

        return lambda get: ev(expr, get)


def _required(e) -> list[Cond]:
    """Conditions every match satisfies (those joined by `and` at the top)."""
    if isinstance(e, Cond):
        return [e]
    if e is not None and e.op == "and":
        return [c for p in e.parts for c in _required(p)]
    return []


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.i = text, 0

    def fail(self, what: str, at: int | None = None) -> CQLError:
        at = self.i if at is None else at
        return CQLError(f"CQL: {what} at position {at + 1} (marked ‸): {self.text[:at]}‸{self.text[at:]}")

    def space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def peek(self) -> str:
        self.space()
        return self.text[self.i : self.i + 1]

    def take(self, s: str) -> bool:
        self.space()
        if self.text.startswith(s, self.i):
            self.i += len(s)
            return True
        return False

    def expect(self, s: str, what: str) -> None:
        if not self.take(s):
            found = self.peek()
            raise self.fail(f"expected {what}" + (f", found {found!r}" if found else ", found the end"))

    def query(self) -> TokenQuery:
        tokens = []
        while self.peek():
            start = self.i
            if self.peek() != "[":
                raise self.fail("expected '[' to start a token, like [lemma=\"bank\"]")
            tokens.append((start, self.token()))
        if not tokens:
            raise self.fail("empty query: write a token like [lemma=\"bank\" & pos=\"NOUN\"]")
        return TokenQuery(self.text, tokens[0][1], tuple(e for _, e in tokens[1:]))

    def token(self):
        self.expect("[", "'['")
        if self.take("]"):
            raise self.fail("[] (any token) is not supported: give a condition", self.i - 2)
        expr = self.disjunction()
        self.expect("]", "']' or '&' or '|'")
        if self.peek() == "{":
            raise self.fail("repetition {m,n} is not supported")
        return expr

    def disjunction(self):
        parts = [self.conjunction()]
        while self.take("|"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Node("or", tuple(parts))

    def conjunction(self):
        parts = [self.unary()]
        while self.take("&"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Node("and", tuple(parts))

    def unary(self):
        if self.take("!") and not self.text.startswith("=", self.i):
            return Node("not", (self.unary(),))
        if self.take("("):
            e = self.disjunction()
            self.expect(")", "')'")
            return e
        return self.condition()

    def condition(self) -> Cond:
        self.space()
        start = self.i
        m = re.compile(r"[A-Za-z_]+").match(self.text, self.i)
        if not m:
            raise self.fail("expected an attribute (" + ", ".join(ATTRIBUTES) + ")")
        attr = m.group(0)
        if attr not in ATTRIBUTES:
            raise self.fail(f"unknown attribute {attr!r} (use " + ", ".join(ATTRIBUTES) + ")", start)
        self.i = m.end()
        if self.take("!="):
            negated = True
        elif self.take("="):
            negated = False
        else:
            raise self.fail("expected = or !=")
        pattern = self.string()
        ignore = self.take("%c")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self.fail(f"bad regular expression {pattern!r}: {exc.msg}", start) from None
        return Cond(attr, negated, pattern, ignore)

    def string(self) -> str:
        self.space()
        quote = self.text[self.i : self.i + 1]
        if quote not in ('"', "'"):
            raise self.fail("expected a quoted value, like \"bank\"")
        start = self.i
        self.i += 1
        out = []
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and self.i + 1 < len(self.text):
                nxt = self.text[self.i + 1]
                out.append(nxt if nxt == quote else c + nxt)
                self.i += 2
                continue
            if c == quote:
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise self.fail("unclosed quote", start)


def parse(text: str) -> TokenQuery:
    """The query's one token, or CQLError with the position."""
    if not text or not text.strip():
        raise CQLError("CQL: empty query: write a token like [lemma=\"bank\" & pos=\"NOUN\"]")
    return _Parser(text).query()


def looks_like_cql(text: str) -> bool:
    """True for a query that starts with `[attr` (a CQL token), not an example like 'a [mole] on'."""
    return bool(re.match(r"\s*\[\s*(?:!|\(|[A-Za-z_]+\s*!?=|\])", text or ""))
