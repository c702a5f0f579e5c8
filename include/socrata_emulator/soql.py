"""A small SoQL compiler: tokenizer + recursive-descent parser emitting parameterized SQL.

User text never reaches SQL except as bound parameters; identifiers are resolved against the
dataset's columns and emitted as our own quoted column names. Literals compared with a typed
column are coerced to that column's type (dates normalized, numeric strings parsed), as
Socrata does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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
SYSTEM = {
    ":id": ("_sid", "rowid"),
    ":created_at": ("_created_at", "timestamp"),
    ":updated_at": ("_updated_at", "timestamp"),
}
MAX_LIMIT = 50000


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
            left = _bool(f"({left.sql} OR {right.sql})", left, right)
        return left

    def and_(self) -> Expr:
        left = self.not_()
        while self.take_kw("and"):
            right = self.not_()
            left = _bool(f"({left.sql} AND {right.sql})", left, right)
        return left

    def not_(self) -> Expr:
        if self.take_kw("not"):
            inner = self.not_()
            return _bool(f"(NOT {inner.sql})", inner)
        return self.cmp()

    def cmp(self) -> Expr:
        left = self.add()
        t = self.peek()
        if t.kind == "op" and t.text in ("=", "==", "!=", "<>", "<", "<=", ">", ">="):
            self.i += 1
            right = self.add()
            left, right = _coerce_pair(left, right)
            op = {"==": "=", "<>": "!="}.get(t.text, t.text)
            return _bool(f"({left.sql} {op} {right.sql})", left, right)
        if self.take_kw("is"):
            neg = self.take_kw("not")
            if not self.take_kw("null"):
                raise SoqlError(f"Expected NULL after IS at position {self.peek().pos}")
            return _bool(f"({left.sql} IS {'NOT ' if neg else ''}NULL)", left)
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
            items = [_coerce_pair(left, it)[1] for it in items]
            sql = f"({left.sql} {n}IN ({', '.join(it.sql for it in items)}))"
            return _bool(sql, left, *items)
        if self.take_kw("like"):
            pattern = self.add()
            return _bool(f"({left.sql} {n}LIKE {pattern.sql})", left, pattern)
        if self.take_kw("between"):
            lo = _coerce_pair(left, self.add())[1]
            if not self.take_kw("and"):
                raise SoqlError("Expected AND in BETWEEN")
            hi = _coerce_pair(left, self.add())[1]
            return _bool(f"({left.sql} {n}BETWEEN {lo.sql} AND {hi.sql})", left, lo, hi)
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
                left = _combine(f"({left.sql} {t.text} {right.sql})", dtype, left, right)
            else:
                return left

    def mul(self) -> Expr:
        left = self.unary()
        while True:
            t = self.peek()
            if t.kind == "op" and t.text in ("*", "/", "%"):
                self.i += 1
                right = self.unary()
                left = _combine(f"({left.sql} {t.text} {right.sql})", "number", left, right)
            else:
                return left

    def unary(self) -> Expr:
        if self.take_op("-"):
            inner = self.unary()
            if inner.literal is not _NOLIT and isinstance(inner.literal, int | float):
                return _lit(-inner.literal, "number")
            return _combine(f"(-{inner.sql})", "number", inner)
        return self.primary()

    def primary(self) -> Expr:
        t = self.peek()
        self.i += 1
        if t.kind == "number":
            v = float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
            return _lit(v, "number")
        if t.kind == "string":
            q = t.text[0]
            return _lit(t.text[1:-1].replace(q + q, q), "text")
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
        if fn in ("starts_with", "contains"):
            a = self.expr()
            self.expect_op(",")
            b = self.expr()
            self.expect_op(")")
            cmp = "= 1" if fn == "starts_with" else "> 0"
            return _bool(f"(INSTR({a.sql}, {b.sql}) {cmp})", a, b)
        raise SoqlError(f"Unknown function '{fn}'", "query.soql.no-such-function")

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


def _lit(v: Any, dtype: str) -> Expr:
    return Expr("?", [v], dtype, v, name=str(v))


def _bool(sql: str, *parts: Expr) -> Expr:
    return _combine(sql, "boolean", *parts)


def _combine(sql: str, dtype: str, *parts: Expr) -> Expr:
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


def _coerce_pair(left: Expr, right: Expr) -> tuple[Expr, Expr]:
    if right.literal is not _NOLIT and left.literal is _NOLIT:
        v = coerce_literal(left.dtype, right.literal)
        right = Expr(right.sql, [v] if right.sql == "?" else right.params, left.dtype, v)
    elif left.literal is not _NOLIT and right.literal is _NOLIT:
        v = coerce_literal(right.dtype, left.literal)
        left = Expr(left.sql, [v] if left.sql == "?" else left.params, right.dtype, v)
    return left, right


@dataclass
class OutputColumn:
    key: str
    dtype: str


@dataclass
class Query:
    sql: str
    params: list[Any]
    columns: list[OutputColumn]


def _split_top(text: str) -> list[str]:
    """Split a clause on top-level commas (not inside parentheses or strings)."""
    parts, depth, cur = [], 0, 0
    for t in tokenize(text)[:-1]:
        if t.kind == "op" and t.text == "(":
            depth += 1
        elif t.kind == "op" and t.text == ")":
            depth -= 1
        elif t.kind == "op" and t.text == "," and depth == 0:
            parts.append(text[cur : t.pos])
            cur = t.pos + 1
    parts.append(text[cur:])
    return [p for p in (s.strip() for s in parts)]


def _select(ds: Dataset, text: str | None, system: bool) -> list[tuple[Expr, str]]:
    items: list[tuple[Expr, str]] = []
    for part in _split_top(text or "*"):
        if part in ("*", ":*"):
            if part == ":*" or system:
                for key, (sql, dtype) in SYSTEM.items():
                    items.append((Expr(sql, [], dtype, name=key), key))
            for c in sorted(ds.columns, key=lambda c: c.position):
                items.append((Expr(c.sql(), [], c.dataTypeName, name=c.fieldName), c.fieldName))
            continue
        if not part:
            raise SoqlError("Empty item in $select")
        p = Parser(ds, part)
        e = p.expr()
        alias = e.name
        if p.take_kw("as"):
            t = p.peek()
            if t.kind != "ident":
                raise SoqlError(f"Expected an alias after AS in $select item {part!r}")
            p.i += 1
            alias = t.text.strip("`")
        p.done()
        items.append((e, alias))
    return items


def compile_query(ds: Dataset, params: dict[str, str]) -> Query:
    """Build the SQL for a `GET /resource/{id}` request from its SoQL parameters."""
    if "$query" in params:
        raise SoqlError("$query is not supported by the stand-in; use $select/$where/...")
    system = params.get("$$exclude_system_fields", "true").lower() == "false"
    items = _select(ds, params.get("$select"), system)
    if not items:  # a dataset without columns still has rows with system ids
        items = [(Expr("_sid", [], "rowid", name=":id"), ":id")]
    aliases = {
        alias: Expr(f"a{n}", [], e.dtype, agg=e.agg, name=alias)
        for n, (e, alias) in enumerate(items)
    }
    sql_params: list[Any] = []
    select_sql = []
    for n, (e, _alias) in enumerate(items):
        select_sql.append(f"{e.sql} AS a{n}")
        sql_params.extend(e.params)
    where_parts: list[Expr] = []
    if params.get("$where"):
        p = Parser(ds, params["$where"])
        where_parts.append(p.expr())
        p.done()
    for key, value in params.items():
        if key.startswith("$"):
            continue
        p = Parser(ds, f"`{key}`" if not key.startswith(":") else key)
        col = p.column(p.peek())
        lit = _lit(value, "text")
        col, lit = _coerce_pair(col, lit)
        where_parts.append(_bool(f"({col.sql} = ?)", col, lit))
    if params.get("$q"):
        texts = [c for c in ds.columns if c.dataTypeName == "text"]
        needle = params["$q"].lower()
        ors = " OR ".join(f"INSTR(LOWER({c.sql()}), ?) > 0" for c in texts) or "0"
        where_parts.append(Expr(f"({ors})", [needle] * len(texts), "boolean"))
    sql = f"SELECT {', '.join(select_sql)} FROM {ds.table}"
    if where_parts:
        if any(e.agg for e in where_parts):
            raise SoqlError("Aggregates are not allowed in $where; use $having")
        sql += " WHERE " + " AND ".join(e.sql for e in where_parts)
        for e in where_parts:
            sql_params.extend(e.params)
    grouped = bool(params.get("$group")) or any(e.agg for e, _ in items)
    if params.get("$group"):
        groups = [_clause(ds, g, aliases) for g in _split_top(params["$group"])]
        sql += " GROUP BY " + ", ".join(g.sql for g in groups)
        for g in groups:
            sql_params.extend(g.params)
    if params.get("$having"):
        h = _clause(ds, params["$having"], aliases)
        sql += " HAVING " + h.sql
        sql_params.extend(h.params)
    order = params.get("$order")
    if order:
        terms = []
        for part in _split_top(order):
            p = Parser(ds, part, aliases)
            e = p.expr()
            direction = "DESC" if p.take_kw("desc") else "ASC"
            if direction == "ASC":
                p.take_kw("asc")
            p.done()
            terms.append(f"{e.sql} {direction}")
            sql_params.extend(e.params)
        sql += " ORDER BY " + ", ".join(terms)
    elif not grouped:
        sql += " ORDER BY _sid"
    limit, offset = _int_param(params, "$limit", 1000), _int_param(params, "$offset", 0)
    if limit > MAX_LIMIT:
        raise SoqlError(f"$limit {limit} exceeds the maximum of {MAX_LIMIT}; page with $offset")
    sql += " LIMIT ? OFFSET ?"
    sql_params.extend([limit, offset])
    return Query(sql, sql_params, [OutputColumn(alias, e.dtype) for e, alias in items])


def _clause(ds: Dataset, text: str, aliases: dict[str, Expr]) -> Expr:
    p = Parser(ds, text, aliases)
    e = p.expr()
    p.done()
    return e


def _int_param(params: dict[str, str], key: str, default: int) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SoqlError(f"{key} must be a non-negative integer, got {raw!r}") from None
    if value < 0:
        raise SoqlError(f"{key} must be a non-negative integer, got {raw!r}")
    return value
