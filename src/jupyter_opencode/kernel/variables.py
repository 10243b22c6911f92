"""The kernel's variables for the composer's @ menu, and summaries of arrays and polars frames."""

from __future__ import annotations

import inspect
import types
from typing import Any

MAX_VARIABLES = 200
_SAMPLE_ITEMS = 10
# IPython's own names in every user namespace.
_SHELL_NAMES = frozenset(("In", "Out", "exit", "quit", "get_ipython", "open"))


def _shape(value: object) -> str:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    if isinstance(value, (list, tuple, dict, set, str)):
        return f"len {len(value)}"
    return ""


def list_variables(namespace: dict[str, Any]) -> list[dict[str, str]]:
    """Data in a user namespace: name, type and shape (no modules, functions or classes)."""
    found = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in _SHELL_NAMES:
            continue
        if (
            isinstance(value, types.ModuleType)
            or inspect.isroutine(value)
            or inspect.isclass(value)
        ):
            continue
        found.append({"name": name, "type": type(value).__name__, "shape": _shape(value)})
        if len(found) >= MAX_VARIABLES:
            break
    return sorted(found, key=lambda v: v["name"].lower())


def array_summary(label: str, value: Any) -> str | None:
    """Shape, dtype and a sample of a NumPy array or a polars DataFrame; None for others."""
    module = type(value).__module__.split(".")[0]
    if module == "numpy" and hasattr(value, "dtype") and hasattr(value, "ravel"):
        sample = value.ravel()[:_SAMPLE_ITEMS].tolist()
        return (
            f"{label}: numpy {type(value).__name__}, shape {_shape(value)}, dtype {value.dtype}\n"
            f"first {len(sample)} values: {sample!r}"
        )
    if module == "polars" and type(value).__name__ == "DataFrame":
        dtypes = "\n".join(f"{n}  {t}" for n, t in zip(value.columns, value.dtypes, strict=True))
        return (
            f"{label}: polars DataFrame, shape {_shape(value)}\n"
            f"dtypes:\n{dtypes}\nhead:\n{value.head()}"
        )
    return None
