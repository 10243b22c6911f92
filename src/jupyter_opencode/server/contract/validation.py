"""Checking requests against the contract's JSON Schemas, with the errors a client reads.

A schema (or any schema above the failing one) may carry ``x-reason`` and ``x-message``:
the error's ``reason`` and its message, prefixed by where in the request the value was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

_INTEGER = re.compile(r"^-?[0-9]{1,18}$")


class Invalid(ValueError):
    """A value that breaks its schema: ``str(e)`` says what is wrong, ``reason`` names it."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Param:
    """A query parameter: its name, JSON Schema and whether it must be given."""

    name: str
    schema: Mapping[str, Any]
    required: bool = False
    description: str = ""
    holder: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        holder = {"type": "object", "properties": {self.name: self.schema}}
        object.__setattr__(self, "holder", {**holder, "required": [self.name]})

    def openapi(self) -> dict[str, Any]:
        """The parameter as the OpenAPI document lists it."""
        param = {"name": self.name, "in": "query", "required": self.required}
        if self.description:
            param["description"] = self.description
        return {**param, "schema": dict(self.schema)}


# Schemas are module constants: each keeps its validator (and stays alive, so ids stay unique).
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    """The validator of a schema constant, made once."""
    known = _VALIDATORS.get(id(schema))
    if known is None:
        known = _VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema))
    return known[1]


def where(path: Sequence[Any]) -> str:
    """``'field'`` at the top, ``messages[1].role`` deeper down."""
    if not path:
        return "the value"
    if len(path) == 1:
        return f"'{path[0]}'"
    text = str(path[0])
    for key in path[1:]:
        text += f"[{key}]" if isinstance(key, int) else f".{key}"
    return text


def _explained(error: ValidationError, root: Mapping[str, Any]) -> Invalid:
    """The deepest ``x-reason``/``x-message`` on the failing schema's path, and where it was."""
    schema: Any = root
    tokens = list(error.absolute_schema_path)
    instance = list(error.absolute_path)
    path: list[Any] = []
    found: tuple[Mapping[str, Any], list[Any]] = (root, [])
    index = 0
    while index < len(tokens) and isinstance(schema, Mapping):
        token = tokens[index]
        if token in ("properties", "patternProperties") and index + 1 < len(tokens):
            schema = schema[token][tokens[index + 1]]
            path.append(instance[len(path)] if len(path) < len(instance) else tokens[index + 1])
            index += 2
        elif token in ("items", "additionalProperties") and len(path) < len(instance):
            schema = schema[token]
            path.append(instance[len(path)])
            index += 1
        elif token in ("anyOf", "oneOf", "allOf") and index + 1 < len(tokens):
            schema = schema[token][tokens[index + 1]]
            index += 2
        else:
            break
        if isinstance(schema, Mapping) and "x-message" in schema:
            found = (schema, list(path))
    if error.validator == "required" and isinstance(error.schema, Mapping):
        missing = [n for n in error.validator_value if n not in (error.instance or {})]
        field = error.schema.get("properties", {}).get(missing[0], {}) if missing else {}
        if "x-message" in field:
            found = (field, [*error.absolute_path, missing[0]])
    if error.validator == "additionalProperties" and not error.absolute_path:
        known = sorted(root.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        return Invalid(
            f"unknown field(s) {', '.join(unknown)}: this takes " + ", ".join(known),
            "unknown_field",
        )
    schema, at = found
    if "x-message" not in schema:
        return Invalid(f"{where(list(error.absolute_path))}: {error.message}", "bad_request")
    value = "(missing)" if error.validator == "required" else repr(error.instance)
    message = str(schema["x-message"]).replace("{value!r}", value)
    return Invalid(f"{where(at)} {message}", str(schema.get("x-reason", "bad_request")))


def check(schema: Mapping[str, Any], value: Any) -> Any:
    """``value`` if it is valid for ``schema``, else :class:`Invalid` saying why."""
    error = best_match(validator(schema).iter_errors(value))
    if error is not None:
        raise _explained(error, schema)
    return value


def query_values(
    params: Sequence[Param], arguments: Mapping[str, Sequence[bytes]]
) -> dict[str, Any]:
    """The query parameters, typed, defaulted and checked; :class:`Invalid` otherwise."""
    values: dict[str, Any] = {}
    for param in params:
        given = arguments.get(param.name)
        if not given:
            if param.required:
                check(param.holder, {})
            values[param.name] = param.schema.get("default")
            continue
        if len(given) > 1:
            raise Invalid(f"'{param.name}' must be given once", f"bad_{param.name}")
        raw = given[0].decode("utf-8", "replace")
        value: Any = raw
        if param.schema.get("type") == "integer":
            value = int(raw) if _INTEGER.match(raw) else raw
        check(param.holder, {param.name: value})
        values[param.name] = value
    return values
