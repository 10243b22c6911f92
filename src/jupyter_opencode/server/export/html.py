"""The HTML export: one self-contained page of sanitized Markdown that prints well."""

from __future__ import annotations

import html
from typing import Any

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .attached import images
from .markdown import message_body, printable, role_heading, session_summary, title_of
from .options import ExportOptions

_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style"},
    attributes={"a": {"href", "title"}, "code": {"class"}, "span": {"class"}, "ol": {"start"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
)
_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, _attrs: Any) -> str:
    """Code colored by Pygments (class names only: the page's CSS gives the colors)."""
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the code itself
    return str(highlight(code, lexer, _FORMATTER))


def _markdown() -> MarkdownIt:
    # Raw HTML in a message stays text; images become links: the page loads nothing.
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])

    def image(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        src = html.escape(str(token.attrGet("src") or ""))
        alt = html.escape(token.content or "image")
        return f'<a href="{src}">[image: {alt}]</a>'

    md.add_render_rule("image", image)
    return md


_MD = _markdown()

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; background: #fff; margin: 0; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
header h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
.summary { color: #59636e; margin: 0 0 1.5rem; }
.tags code { margin-right: .3rem; }
article { border-top: 1px solid #d1d9e0; padding: .8rem 0 .4rem; }
article > h2 { font-size: .95rem; margin: 0 0 .4rem; color: #59636e; }
article.user > h2 { color: #0969da; }
article.assistant > h2 { color: #8250df; }
article.user .body { background: #f6f8fa; border-radius: 6px; padding: .1rem .9rem; }
pre, code { font-family: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: .86rem; }
pre { background: #f6f8fa; border: 1px solid #d1d9e0; border-radius: 6px; padding: .7rem .9rem;
  overflow-x: auto; }
:not(pre) > code { background: #eff1f3; border-radius: 4px; padding: .1rem .3rem; }
blockquote { margin: .6rem 0; padding: 0 .9rem; border-left: 3px solid #d1d9e0; color: #59636e; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d1d9e0; padding: .25rem .6rem; }
a { color: #0969da; }
@media print {
  @page { margin: 16mm 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  article > h2 { break-after: avoid; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; break-inside: avoid; }
  a { color: inherit; }
}
"""
PYGMENTS_CSS = _FORMATTER.get_style_defs("pre code")
# The file allows its own inline style and nothing else: no script, no request anywhere.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_markdown(text: str) -> str:
    """Markdown as sanitized HTML."""
    return str(_CLEANER.clean(_MD.render(printable(text))))


class HtmlRenderer:
    """The conversation as one HTML page: an article per message."""

    def __init__(self, options: ExportOptions) -> None:
        self.options = options

    def head(self, session: dict[str, Any]) -> str:
        """The document head, styles and title block."""
        title = html.escape(title_of(session))
        tags = "".join(f"<code>{html.escape(str(t))}</code>" for t in session.get("tags") or [])
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="jupyter-opencode">\n'
            f"<title>{title}</title>\n<style>{CSS}{PYGMENTS_CSS}\n</style>\n</head>\n<body>\n"
            f"<main>\n<header>\n<h1>{title}</h1>\n"
            f'<p class="summary">{html.escape(session_summary(session, self.options))}</p>\n'
            + (f'<p class="tags">{tags}</p>\n' if tags else "")
            + "</header>\n"
        )

    def messages(self, batch: list[dict[str, Any]]) -> str:
        """A batch of messages."""
        return "".join(self._message(m) for m in batch)

    def tail(self) -> str:
        """Close the page."""
        return "</main>\n</body>\n</html>\n"

    def _message(self, message: dict[str, Any]) -> str:
        role = message.get("role") if message.get("role") in ("user", "assistant") else "other"
        heading = html.escape(printable(role_heading(message, self.options)))
        body = render_markdown("\n\n".join(message_body(message))) + "".join(
            f'<figure><img src="data:{html.escape(item["mime"])};base64,{item["data"]}"'
            f' alt="{html.escape(item["name"])}"><figcaption>{html.escape(item["name"])}'
            "</figcaption></figure>\n"
            for item in images(message)
        )
        return (
            f'<article class="message {role}">\n<h2>{heading}</h2>\n'
            f'<div class="body">\n{body}</div>\n</article>\n'
        )
