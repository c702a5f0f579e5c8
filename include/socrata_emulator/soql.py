"""A small SoQL compiler: the clauses of a `GET /resource/{id}` request ($select, $where,
$group, $having, $order, $limit, $offset, $q, column filters) into one parameterized SQL query.
Expressions are parsed by soql_expr.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from socrata_emulator.models import Dataset
from socrata_emulator.soql_expr import (
    SYSTEM,
    Expr,
    Parser,
    SoqlError,
    boolean,
    coerce_pair,
    literal,
    tokenize,
)

__all__ = ["MAX_LIMIT", "OutputColumn", "Query", "SoqlError", "compile_query"]

MAX_LIMIT = 50000


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
        lit = literal(value, "text")
        col, lit = coerce_pair(col, lit)
        where_parts.append(boolean(f"({col.sql} = ?)", col, lit))
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
