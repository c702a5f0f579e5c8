"""SoQL expressions: tokenizer and recursive-descent parser emitting parameterized SQL.

User text never reaches SQL except as bound parameters; identifiers are resolved against the
dataset's columns and emitted as our own quoted column names. Literals compared with a typed
column are coerced to that column's type (dates normalized, numeric strings parsed), as
Socrata does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from socrata_emulator import geo
from socrata_emulator.coerce import BadValue, convert_value, decode_row_id
from socrata_emulator.models import ApiError, Dataset

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    |(?P<ident>:\*|:?[A-Za-z_@][A-Za-z0-9_]*|`[^`]+`)
    |(?P<op><=|>=|<>|!=|==|\|\||[=<>+\-*/%(),])
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "is", "null", "in", "like", "between", "as", "asc", "desc"}
KEYWORDS |= {"true", "false"}
AGGREGATES = {"count", "sum", "min", "max", "avg"}
SCALAR_FUNCS = {"upper": "text", "lower": "text", "length": "number"}
# date_trunc_*: a floating timestamp cut to its day, month or year (kept chars, filler).
DATE_TRUNC = {
    "date_trunc_ymd": (10, "T00:00:00.000"),
    "date_trunc_ym": (7, "-01T00:00:00.000"),
    "date_trunc_y": (4, "-01-01T00:00:00.000"),
}
SYSTEM = {
    ":id": ("_sid", "rowid"),
    ":created_at": ("_created_at", "timestamp"),
    ":updated_at": ("_updated_at", "timestamp"),
}


class SoqlError(ApiError):
    def __init__(self, message: str, code: str = "query.compiler.malformed"):
        super().__init__(400, code, message)


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SoqlError(f"Could not parse SoQL at position {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or "op"
        toks.append(Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    toks.append(Tok("eof", "", len(text)))
    return toks


_NOLIT = object()


@dataclass
class Expr:
    sql: str
    params: list[Any] = field(default_factory=list)
    dtype: str = "text"
    literal: Any = _NOLIT
    agg: bool = False
    name: str = "expr"


class Parser:
    """Parses one SoQL clause into an Expr (or lists of them) for a dataset."""

    def __init__(self, ds: Dataset, text: str, aliases: dict[str, Expr] | None = None):
        self.ds, self.toks, self.i = ds, tokenize(text), 0
        self.aliases = aliases or {}

    # -- token helpers
    def peek(self, k: int = 0) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def kw(self, *words: str) -> bool:
        t = self.peek()
        return t.kind == "ident" and t.text.lower() in words

    def take_kw(self, word: str) -> bool:
        if self.kw(word):
            self.i += 1
            return True
        return False

    def take_op(self, op: str) -> bool:
        t = self.peek()
        if t.kind == "op" and t.text == op:
            self.i += 1
            return True
        return False

    def expect_op(self, op: str) -> None:
        if not self.take_op(op):
            t = self.peek()
            raise SoqlError(f"Expected '{op}' at position {t.pos}, found {t.text or 'end'!r}")

    def done(self) -> None:
        t = self.peek()
        if t.kind != "eof":
            raise SoqlError(f"Unexpected {t.text!r} at position {t.pos}")

    # -- grammar
    def expr(self) -> Expr:
        left = self.and_()
        while self.take_kw("or"):
            right = self.and_()
            left = boolean(f"({left.sql} OR {right.sql})", left, right)
        return left

    def and_(self) -> Expr:
        left = self.not_()
        while self.take_kw("and"):
            right = self.not_()
            left = boolean(f"({left.sql} AND {right.sql})", left, right)
        return left

    def not_(self) -> Expr:
        if self.take_kw("not"):
            inner = self.not_()
            return boolean(f"(NOT {inner.sql})", inner)
        return self.cmp()

    def cmp(self) -> Expr:
        left = self.add()
        t = self.peek()
        if t.kind == "op" and t.text in ("=", "==", "!=", "<>", "<", "<=", ">", ">="):
            self.i += 1
            right = self.add()
            left, right = coerce_pair(left, right)
            op = {"==": "=", "<>": "!="}.get(t.text, t.text)
            return boolean(f"({left.sql} {op} {right.sql})", left, right)
        if self.take_kw("is"):
            neg = self.take_kw("not")
            if not self.take_kw("null"):
                raise SoqlError(f"Expected NULL after IS at position {self.peek().pos}")
            return boolean(f"({left.sql} IS {'NOT ' if neg else ''}NULL)", left)
        neg = False
        nxt = self.peek(1)
        if self.kw("not") and nxt.kind == "ident" and nxt.text.lower() in ("in", "like", "between"):
            self.i += 1
            neg = True
        n = "NOT " if neg else ""
        if self.take_kw("in"):
            self.expect_op("(")
            items = [self.add()]
            while self.take_op(","):
                items.append(self.add())
            self.expect_op(")")
            items = [coerce_pair(left, it)[1] for it in items]
            sql = f"({left.sql} {n}IN ({', '.join(it.sql for it in items)}))"
            return boolean(sql, left, *items)
        if self.take_kw("like"):
            pattern = self.add()
            return boolean(f"({left.sql} {n}LIKE {pattern.sql})", left, pattern)
        if self.take_kw("between"):
            lo = coerce_pair(left, self.add())[1]
            if not self.take_kw("and"):
                raise SoqlError("Expected AND in BETWEEN")
            hi = coerce_pair(left, self.add())[1]
            return boolean(f"({left.sql} {n}BETWEEN {lo.sql} AND {hi.sql})", left, lo, hi)
        if neg:
            raise SoqlError("Expected IN, LIKE or BETWEEN after NOT")
        return left

    def add(self) -> Expr:
        left = self.mul()
        while True:
            t = self.peek()
            if t.kind == "op" and t.text in ("+", "-", "||"):
                self.i += 1
                right = self.mul()
                dtype = "text" if t.text == "||" else "number"
                left = combine(f"({left.sql} {t.text} {right.sql})", dtype, left, right)
            else:
                return left

    def mul(self) -> Expr:
        left = self.unary()
        while True:
            t = self.peek()
            if t.kind == "op" and t.text in ("*", "/", "%"):
                self.i += 1
                right = self.unary()
                left = combine(f"({left.sql} {t.text} {right.sql})", "number", left, right)
            else:
                return left

    def unary(self) -> Expr:
        if self.take_op("-"):
            inner = self.unary()
            if inner.literal is not _NOLIT and isinstance(inner.literal, int | float):
                return literal(-inner.literal, "number")
            return combine(f"(-{inner.sql})", "number", inner)
        return self.primary()

    def primary(self) -> Expr:
        t = self.peek()
        self.i += 1
        if t.kind == "number":
            v = float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
            return literal(v, "number")
        if t.kind == "string":
            q = t.text[0]
            return literal(t.text[1:-1].replace(q + q, q), "text")
        if t.kind == "op" and t.text == "(":
            inner = self.expr()
            self.expect_op(")")
            return inner
        if t.kind == "ident":
            low = t.text.lower()
            if low in ("true", "false"):
                return Expr("?", [low == "true"], "boolean", low == "true", name=low)
            if low == "null":
                return Expr("NULL", [], "null", None, name="null")
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.call(low)
            return self.column(t)
        raise SoqlError(f"Unexpected {t.text or 'end of query'!r} at position {t.pos}")

    def call(self, fn: str) -> Expr:
        self.expect_op("(")
        if fn in AGGREGATES:
            if fn == "count" and self.take_op("*"):
                self.expect_op(")")
                return Expr("COUNT(*)", [], "number", agg=True, name="count")
            arg = self.expr()
            self.expect_op(")")
            dtype = arg.dtype if fn in ("min", "max") else "number"
            return Expr(
                f"{fn.upper()}({arg.sql})", arg.params, dtype, agg=True, name=f"{fn}_{arg.name}"
            )
        if fn in DATE_TRUNC:
            arg = self.expr()
            self.expect_op(")")
            keep, filler = DATE_TRUNC[fn]
            return Expr(
                f"(SUBSTR({arg.sql}, 1, {keep}) || ?)",
                [*arg.params, filler],
                "calendar_date",
                agg=arg.agg,
                name=f"{fn}_{arg.name}",
            )
        if fn in SCALAR_FUNCS:
            arg = self.expr()
            self.expect_op(")")
            return Expr(
                f"{fn.upper()}({arg.sql})",
                arg.params,
                SCALAR_FUNCS[fn],
                agg=arg.agg,
                name=f"{fn}_{arg.name}",
            )
        if fn in geo.FUNCTIONS:
            return self._spatial(fn)
        if fn in ("starts_with", "contains"):
            a = self.expr()
            self.expect_op(",")
            b = self.expr()
            self.expect_op(")")
            cmp = "= 1" if fn == "starts_with" else "> 0"
            return boolean(f"(INSTR({a.sql}, {b.sql}) {cmp})", a, b)
        raise SoqlError(f"Unknown function '{fn}'", "query.soql.no-such-function")

    def _spatial(self, fn: str) -> Expr:
        """within_box, within_circle, within_polygon, intersects: a geometry column, then
        number or WKT literals (see geo.py)."""
        sql_name, arity, _ = geo.FUNCTIONS[fn]
        column = self.expr()
        if column.dtype not in (*geo.GEOMETRY_TYPES, "location"):
            raise SoqlError(f"{fn}(...) needs a geospatial column, not a {column.dtype}")
        args = []
        for _ in range(arity):
            self.expect_op(",")
            args.append(self.expr())
        self.expect_op(")")
        for arg in args:
            if arg.literal is _NOLIT:
                raise SoqlError(f"{fn}(...) takes literals after the column")
            if arity == 1:
                try:
                    geo.check_literal(fn, arg.literal)
                except geo.GeometryValueError as exc:
                    raise SoqlError(str(exc)) from None
            elif not isinstance(arg.literal, int | float):
                raise SoqlError(f"{fn}(...) takes numbers after the column")
        sql = f"({sql_name}({', '.join([column.sql, *(a.sql for a in args)])}) = 1)"
        return boolean(sql, column, *args)

    def column(self, t: Tok) -> Expr:
        name = t.text[1:-1] if t.text.startswith("`") else t.text
        if name.lower() in SYSTEM:
            sql, dtype = SYSTEM[name.lower()]
            return Expr(sql, [], dtype, name=name.lower())
        if name in self.aliases:
            return self.aliases[name]
        col = self.ds.column(name) or self.ds.column(name.lower())
        if col is None:
            raise SoqlError(
                f"No such column: {name} (dataset {self.ds.id})", "query.soql.no-such-column"
            )
        return Expr(col.sql(), [], col.dataTypeName, name=col.fieldName)


def literal(v: Any, dtype: str) -> Expr:
    return Expr("?", [v], dtype, v, name=str(v))


def boolean(sql: str, *parts: Expr) -> Expr:
    return combine(sql, "boolean", *parts)


def combine(sql: str, dtype: str, *parts: Expr) -> Expr:
    params = [p for e in parts for p in e.params]
    return Expr(sql, params, dtype, agg=any(e.agg for e in parts))


def coerce_literal(dtype: str, value: Any) -> Any:
    """A literal compared with a column of `dtype`, in that column's stored form."""
    if value is None:
        return None
    try:
        if dtype == "rowid":
            sid = decode_row_id(value) if isinstance(value, str) else value
            if sid is None:
                raise BadValue("not a row id")
            return sid
        if dtype in ("number", "calendar_date", "checkbox"):
            return convert_value(dtype, value)
        if dtype == "text" and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    except BadValue as exc:
        raise SoqlError(f"Literal {value!r} does not fit a {dtype} column: {exc}") from None
    return value


def coerce_pair(left: Expr, right: Expr) -> tuple[Expr, Expr]:
    if right.literal is not _NOLIT and left.literal is _NOLIT:
        v = coerce_literal(left.dtype, right.literal)
        right = Expr(right.sql, [v] if right.sql == "?" else right.params, left.dtype, v)
    elif left.literal is not _NOLIT and right.literal is _NOLIT:
        v = coerce_literal(right.dtype, left.literal)
        left = Expr(left.sql, [v] if left.sql == "?" else left.params, right.dtype, v)
    return left, right
