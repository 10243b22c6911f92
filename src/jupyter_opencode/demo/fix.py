"""The demo model's fix of a failing cell: the name or key the error names, spelled as the
notebook spells it elsewhere (``df["colour"]`` becomes ``df["color"]``)."""

from __future__ import annotations

import difflib
import re

# The first line of the Fix request of the notebook page (js/lab/src/oneclick.js ``fixText``).
FIX_REQUEST = re.compile(r"^Fix cell (\S+) of (.+?): it failed", re.MULTILINE)
_MISSING = (
    re.compile(r"KeyError: (['\"])(?P<name>.+?)\1"),
    re.compile(r"NameError: name '(?P<name>\w+)' is not defined"),
)
_WORD = re.compile(r"[A-Za-z_]\w*")


def fix_request(user_text: str) -> tuple[str, str] | None:
    """(notebook path, cell id) of a Fix request, if the text is one."""
    match = FIX_REQUEST.search(user_text)
    return (match.group(2), match.group(1)) if match else None


def cell_source(notebook_text: str, cell_id: str) -> str | None:
    """The source of cell ``cell_id`` in a ``read_notebook`` result."""
    pattern = rf"^--- cell \d+ id={re.escape(cell_id)} [^\n]*\n(.*?)(?=\n--- |\Z)"
    match = re.search(pattern, notebook_text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else None


def missing_name(error_text: str) -> str | None:
    """The key or name an error says is missing."""
    for pattern in _MISSING:
        if match := pattern.search(error_text):
            return match.group("name")
    return None


def fixed_source(source: str, missing: str, notebook_text: str) -> str | None:
    """``source`` with ``missing`` replaced by the closest word the notebook uses, if any."""
    words = set(_WORD.findall(notebook_text)) - {missing}
    close = difflib.get_close_matches(missing, sorted(words), n=1, cutoff=0.6)
    if not close:
        return None
    fixed = re.sub(rf"(?<![\w]){re.escape(missing)}(?![\w])", close[0], source)
    return fixed if fixed != source else None
