"""`--where` expressions on document metadata, parsed into parameterised SQL.

A small grammar, so a filter can never become SQL of the user's making:

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "not" factor | "(" expr ")" | "@" NAME | FIELD OP VALUE | FIELD "in" "(" VALUE ("," VALUE)* ")"
    OP     := = == != < <= > >= ~          (~: contains, ignoring case)
    VALUE  := a number, a "quoted" or 'quoted' string, or a bare word

FIELD is a metadata field of the index (`senseindex meta INDEX` lists them), or `doc` (the
document id within a file: `# newdoc id`, `<text id>`, a JSONL `doc`) or `path` (the file).
`@NAME` is a saved subcorpus. Field names and operators come from fixed lists; every value is a
bound parameter. A value is compared as its field's type: a number field takes numbers (`year >=
1990`), a date field ISO dates compared as text (`date >= "2001-05"`). The SQL is a condition on
the sentence alias `s`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from senseindex.errors import SenseIndexError

OPS = {"=": "=", "==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "~": "~"}
BUILTIN = {"doc": "s.section", "path": "(select d.path from documents d where d.id = s.document_id)"}
_TOKEN = re.compile(r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?(?![\w.-]))|(?P<str>"[^"]*"|'[^']*')|(?P<op>==|!=|<=|>=|[=<>~(),@])"""
                    r"""|(?P<word>[^\s=!<>~(),@"']+))""")
MAX_DEPTH = 8  # subcorpora naming subcorpora


@dataclass
class Selection:
    """A parsed filter: `sql` is a condition on sentences `s`, `params` its bound values."""

    expr: str
    sql: str
    params: list = field(default_factory=list)
    fields: set[str] = field(default_factory=set)


def _tokens(expr: str) -> list[tuple[str, object, int]]:
    out, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise _error(expr, pos + len(expr[pos:]) - len(expr[pos:].lstrip()), "unexpected character")
        start = m.start(m.lastgroup)
        kind, text = m.lastgroup, m.group(m.lastgroup)
        if kind == "num":
            out.append(("value", float(text) if "." in text else int(text), start))
        elif kind == "str":
            out.append(("value", text[1:-1], start))
        elif kind == "op":
            out.append(("op", text, start))
        else:
            low = text.lower()
            out.append(("kw" if low in ("and", "or", "not", "in") else "word", low if low in (
                "and", "or", "not", "in") else text, start))
        pos = m.end()
    return out


def _error(expr: str, pos: int, message: str) -> SenseIndexError:
    return SenseIndexError(f"--where {expr!r}: {message} at column {pos + 1}")


class _Parser:
    def __init__(self, expr: str, types: dict[str, str], saved, depth: int) -> None:
        self.expr = expr
        self.toks = _tokens(expr)
        self.i = 0
        self.types = types
        self.saved = saved
        self.depth = depth
        self.params: list = []
        self.fields: set[str] = set()

    def peek(self) -> tuple[str, object, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def at(self) -> int:
        t = self.peek()
        return t[2] if t else len(self.expr)

    def take(self, kind: str, value: object | None = None, what: str = "") -> tuple[str, object, int]:
        t = self.peek()
        if t is None or t[0] != kind or (value is not None and t[1] != value):
            raise _error(self.expr, self.at(), f"expected {what or value or kind}"
                         + (f", found {t[1]!r}" if t else ", found the end"))
        self.i += 1
        return t

    def parse(self) -> str:
        if not self.toks:
            raise _error(self.expr, 0, "empty expression")
        sql = self.or_()
        if self.peek() is not None:
            raise _error(self.expr, self.at(), f"unexpected {self.peek()[1]!r} (join conditions with and/or)")
        return sql

    def or_(self) -> str:
        parts = [self.and_()]
        while self.peek() and self.peek()[:2] == ("kw", "or"):
            self.i += 1
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def and_(self) -> str:
        parts = [self.factor()]
        while self.peek() and self.peek()[:2] == ("kw", "and"):
            self.i += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"

    def factor(self) -> str:
        t = self.peek()
        if t is None:
            raise _error(self.expr, len(self.expr), "expected a condition, found the end")
        if t[:2] == ("kw", "not"):
            self.i += 1
            return f"not ({self.factor()})"
        if t[:2] == ("op", "("):
            self.i += 1
            inner = self.or_()
            self.take("op", ")", "')'")
            return f"({inner})"
        if t[:2] == ("op", "@"):
            self.i += 1
            name = self.take("word", what="a subcorpus name")
            return self.subcorpus(str(name[1]), name[2])
        return self.comparison()

    def subcorpus(self, name: str, pos: int) -> str:
        expr = self.saved(name) if self.saved else None
        if expr is None:
            raise _error(self.expr, pos, f"no subcorpus named {name!r}")
        if self.depth >= MAX_DEPTH:
            raise _error(self.expr, pos, f"subcorpus {name!r} refers to itself (or nests too deeply)")
        inner = parse_where(expr, self.types, self.saved, self.depth + 1)
        self.params.extend(inner.params)
        self.fields |= inner.fields
        return f"({inner.sql})"

    def comparison(self) -> str:
        name_tok = self.take("word", what="a field name")
        name = str(name_tok[1])
        if name not in self.types and name not in BUILTIN:
            known = ", ".join(sorted(self.types)) or "none: the index has no metadata"
            raise _error(self.expr, name_tok[2], f"unknown field {name!r} (fields: {known}; or doc, path)")
        self.fields.add(name)
        t = self.peek()
        if t is not None and t[:2] == ("kw", "in"):
            self.i += 1
            self.take("op", "(", "'('")
            values = [self.value(name)]
            while self.peek() and self.peek()[:2] == ("op", ","):
                self.i += 1
                values.append(self.value(name))
            self.take("op", ")", "')'")
            return self.condition(name, "in", values)
        if t is None or t[0] != "op" or t[1] not in OPS:
            raise _error(self.expr, self.at(), f"expected an operator after {name!r} ({' '.join(OPS)} or in)")
        self.i += 1
        return self.condition(name, OPS[str(t[1])], [self.value(name)])

    def value(self, name: str) -> object:
        t = self.peek()
        if t is None or t[0] not in ("value", "word"):
            raise _error(self.expr, self.at(), "expected a value")
        self.i += 1
        v = t[1]
        if self.types.get(name) == "number":
            if isinstance(v, str):
                try:
                    v = float(v) if "." in v else int(v)
                except ValueError:
                    raise _error(self.expr, t[2], f"{name} is a number field; {v!r} is not a number") from None
            return v
        return v if isinstance(v, str) else str(v)

    def condition(self, name: str, op: str, values: list) -> str:
        column = BUILTIN.get(name, "m.value")
        if op == "~":
            test = f"instr(lower({column}), lower(?)) > 0"
        elif op == "in":
            test = f"{column} in ({','.join('?' * len(values))})"
        else:
            test = f"{column} {op} ?"
        if name in BUILTIN:
            self.params.extend(values)
            return test
        self.params.append(name)
        self.params.extend(values)
        return f"s.text_id in (select m.text_id from meta m where m.field = ? and {test})"


def parse_where(expr: str, types: dict[str, str], saved=None, depth: int = 0) -> Selection:
    """Parse an expression against the index's fields (`types`: field -> number/date/text);
    `saved(name)` gives a subcorpus's expression. Errors name the column."""
    p = _Parser(expr, types, saved, depth)
    sql = p.parse()
    return Selection(expr, sql, p.params, p.fields)
