"""Markdown parsed into a flat list of styled blocks: what the PDF and DOCX writers lay out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .markdown import message_body, printable, role_heading, session_summary, title_of
from .options import ExportOptions

_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_STYLES = {"strong": "bold", "em": "italic", "s": "strike"}


@dataclass(frozen=True)
class Run:
    """A piece of text with one style."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    strike: bool = False
    href: str = ""


@dataclass
class Block:
    """A heading, paragraph (maybe in a list or quote), code block, or rule."""

    kind: str
    runs: list[Run] = field(default_factory=list)
    text: str = ""
    level: int = 0
    quote: int = 0
    indent: int = 0
    bullet: str = ""
    role: str = ""


def _add_run(runs: list[Run], run: Run) -> None:
    """Append a run, merged into the last one when they share a style (fewer, longer runs)."""
    last = runs[-1] if runs else None
    if last is not None and replace(last, text="") == replace(run, text=""):
        runs[-1] = replace(last, text=last.text + run.text)
    else:
        runs.append(run)


def _runs(token: Token) -> list[Run]:
    runs: list[Run] = []
    style = Run("")  # the styles open at this point, as a template
    for child in token.children or []:
        kind = child.type
        name, _, edge = kind.rpartition("_")
        if name in _STYLES and edge in ("open", "close"):
            flag: dict[str, Any] = {_STYLES[name]: edge == "open"}
            style = replace(style, **flag)
        elif kind == "link_open":
            style = replace(style, href=str(child.attrGet("href") or ""))
        elif kind == "link_close":
            style = replace(style, href="")
        elif kind == "code_inline":
            _add_run(runs, replace(style, text=child.content, code=True))
        elif kind in ("softbreak", "hardbreak"):
            _add_run(runs, replace(style, text="\n" if kind == "hardbreak" else " "))
        elif kind == "image":
            alt = f"[image: {child.content or 'image'}]"
            _add_run(runs, Run(alt, href=str(child.attrGet("src"))))
        elif child.content:
            _add_run(runs, replace(style, text=child.content))
    return runs


class _Walker:
    """Turns markdown-it's token stream into blocks, tracking lists and quotes."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.quote = 0
        self.lists: list[list[int]] = []  # per open list: [next number] or [] for bullets
        self.pending_bullet = ""
        self.heading = 0
        self.table: list[list[str]] | None = None

    def walk(self, tokens: list[Token]) -> list[Block]:
        for token in tokens:
            self._token(token)
        return self.blocks

    def _token(self, token: Token) -> None:
        kind = token.type
        if kind == "blockquote_open":
            self.quote += 1
        elif kind == "blockquote_close":
            self.quote -= 1
        elif kind == "bullet_list_open":
            self.lists.append([])
        elif kind == "ordered_list_open":
            self.lists.append([int(token.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "list_item_open":
            numbers = self.lists[-1]
            self.pending_bullet = f"{numbers[0]}." if numbers else "•"
            if numbers:
                numbers[0] += 1
        elif kind == "heading_open":
            self.heading = int(token.tag[1:])
        elif kind == "table_open":
            self.table = []
        elif kind == "tr_open" and self.table is not None:
            self.table.append([])
        elif kind == "table_close" and self.table is not None:
            self._add(Block("code", text=_aligned(self.table)))
            self.table = None
        elif kind == "inline":
            self._inline(token)
        elif kind in ("fence", "code_block"):
            self._add(Block("code", text=token.content.rstrip("\n"), bullet=self._take_bullet()))
        elif kind == "hr":
            self._add(Block("rule"))

    def _inline(self, token: Token) -> None:
        runs = _runs(token)
        if self.table is not None:
            self.table[-1].append("".join(run.text for run in runs))
        elif self.heading:
            self._add(Block("heading", runs, level=self.heading))
            self.heading = 0
        else:
            self._add(Block("paragraph", runs, bullet=self._take_bullet()))

    def _take_bullet(self) -> str:
        bullet, self.pending_bullet = self.pending_bullet, ""
        return bullet

    def _add(self, block: Block) -> None:
        block.quote, block.indent = self.quote, len(self.lists)
        self.blocks.append(block)


def _aligned(rows: list[list[str]]) -> str:
    """A table as aligned monospace text, a rule under its header row."""
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_blocks(text: str) -> list[Block]:
    """The blocks of a Markdown text (control characters left out: PDF and DOCX cannot hold
    them)."""
    return _Walker().walk(_MD.parse(printable(text)))


def title_blocks(session: dict[str, Any], options: ExportOptions) -> list[Block]:
    """The document title and the summary line."""
    return [
        Block("title", [Run(title_of(session))]),
        Block("summary", [Run(printable(session_summary(session, options)), italic=True)]),
    ]


def message_blocks(message: dict[str, Any], options: ExportOptions) -> list[Block]:
    """A message's role heading, then its body's blocks."""
    heading = Block("role", [Run(printable(role_heading(message, options)), bold=True)])
    heading.role = str(message.get("role") or "")
    return [heading, *markdown_blocks("\n\n".join(message_body(message)))]
