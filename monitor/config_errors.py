"""Where a config problem is and how it reads: one line `file:line: key.path: reason`.

Owns turning TOML syntax errors and pydantic errors into those lines: the
one-line reason for each error type, the key path (`site[3] (id="beipiao").kind`),
the did-you-mean hint, and the text scanner that finds the line of a table
header or key. Must not validate, read files or know the config's models: the
root model class is passed in.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, time
from typing import Any, get_origin

from pydantic import BaseModel

Loc = tuple[str | int, ...]


def suggest(value: str, choices: Iterable[str]) -> str:
    """A ` (did you mean …?)` or ` (expected one of: …)` suffix for an unknown `value`; may be empty."""
    choices = list(choices)
    close = difflib.get_close_matches(value, choices, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(choices)})" if len(choices) <= 16 else ""


def syntax_error(message: str, text: str, label: str) -> str:
    """The line for a `tomllib.TOMLDecodeError` message: its line and column, or the file's last line."""
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        return f"{label}:{match[1]}: invalid TOML: {message[:match.start()]} (column {match[2]})"
    what = re.sub(r"\s*\(at end of document\)$", "", message)
    return f"{label}:{max(len(text.splitlines()), 1)}: invalid TOML: {what} (at the end of the file)"


def format_errors(errors: list[dict[str, Any]], data: Mapping[str, Any], text: str, label: str,
                  root: type[BaseModel]) -> list[str]:
    """One line per problem, sorted by line and without repeats.

    `errors` are pydantic error dicts validated against `root` on the TOML `data` parsed from `text`;
    a `config_cross` error carries its own `(loc, reason)` pairs in `ctx["problems"]`.
    """
    index = _line_index(text)
    found: list[tuple[int, str]] = []
    for err in errors:
        pairs = (err["ctx"]["problems"] if err["type"] == "config_cross"
                 else [(tuple(err["loc"]), reason(err, _model_at(tuple(err["loc"]), root)))])
        for loc, why in pairs:
            line = _line_of(loc, index)
            where = f"{label}:{line}" if line else label
            key = _key_path(loc, data)
            found.append((line, f"{where}: {key}: {why}" if key else f"{where}: {why}"))
    found.sort(key=lambda pair: pair[0])
    return list(dict.fromkeys(line for _, line in found))


_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
    "bool_parsing": "true or false", "string_type": "a string", "list_type": "a list",
    "model_type": "a table", "dict_type": "a table", "model_attributes_type": "a table",
}
_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
           "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}


def reason(err: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """The one-line reason for a pydantic error dict; `model` holds the key (for did-you-mean), if known."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "config":
        return str(ctx["reason"])
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_show(value)}"
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        return f"must be {sign} {ctx[key]}, got {_show(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"expected {ctx['expected']}, got {_show(value)}"
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        known = [f.alias or n for n, f in model.model_fields.items() if not f.exclude] if model else []
        return f"unknown key {name!r}" + (suggest(name, known) if known else "")
    return str(err.get("msg", kind))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model under `root` that holds the last key of `loc` (for did-you-mean on unknown keys)."""
    model = root
    keyed = False   # the previous part was a table of models by key ([score.deduct."<id>"]): this part is a key
    for part in loc[:-1]:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        inner = _model_in(field.annotation) if field else None
        if inner is None or field is None:
            return None
        keyed = get_origin(field.annotation) is dict
        model = inner
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found:
            return found
    return None


def _key_path(loc: Loc, data: Any) -> str:
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            label = f"[{part}]"
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                label += f' (id="{node["id"]}")'
            parts[-1:] = [(parts[-1] if parts else "") + label]
        else:
            node = node.get(part) if isinstance(node, dict) else None
            parts.append(part)
    return ".".join(parts)


_HEADER = re.compile(r"\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?")
_NAME = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_KEY = re.compile(rf"\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*=")


def _line_index(text: str) -> dict[Loc, int]:
    """Map each table header and key of the file to its first line, by scanning the text."""
    index: dict[Loc, int] = {}
    table: Loc = ()
    counts: dict[Loc, int] = {}
    for number, line in _statement_lines(text):
        header = _HEADER.fullmatch(line)
        if header:
            table = ()
            names = _split_key(header[2])
            for name in names[:-1]:
                table += (name,)
                if table in counts:
                    table += (counts[table],)
            table += (names[-1],)
            if header[1] == "[[":
                counts[table] = counts.get(table, -1) + 1
                table += (counts[table],)
            for end in range(1, len(table) + 1):  # [notify.smtp] also locates `notify`
                index.setdefault(table[:end], number)
            continue
        key = _KEY.match(line)
        if key:
            index.setdefault((*table, *_split_key(key[1])), number)
    return index


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", key)]


def _statement_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines that start a statement: not inside a multi-line string or an open array or table."""
    depth, quote = 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        if depth == 0 and not quote:
            yield number, line
        i = 0
        while i < len(line):
            if quote:
                if line[i] == "\\" and quote[0] == '"':
                    i += 1  # an escape: the next character cannot close the string
                elif line.startswith(quote, i):
                    i, quote = i + len(quote) - 1, ""
            elif line[i] == "#":
                break
            elif line.startswith(('"""', "'''"), i):
                quote, i = line[i:i + 3], i + 2
            elif line[i] in "\"'":
                quote = line[i]
            elif line[i] in "[{":
                depth += 1
            elif line[i] in "]}":
                depth = max(depth - 1, 0)
            i += 1
        if len(quote) == 1:
            quote = ""  # a single-line string never continues onto the next line


def _line_of(loc: Loc, index: Mapping[Loc, int]) -> int:
    for end in range(len(loc), 0, -1):
        if loc[:end] in index:
            return index[loc[:end]]
    return 0
