"""The PDF export, laid out by ReportLab from the shared Markdown rendering."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Image,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
)

from ..._version import __version__
from .attached import image_bytes, images
from .blocks import Block, Run, message_blocks, title_blocks
from .markdown import title_of
from .options import ExportOptions

# DejaVu covers far more of Unicode than the PDF core fonts (Latin-1 only); Debian's
# fonts-dejavu-core installs it. Without it the core fonts are used.
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
_DEJAVU = {
    "JoSans": "DejaVuSans.ttf",
    "JoSans-Bold": "DejaVuSans-Bold.ttf",
    "JoSans-Italic": "DejaVuSans-Oblique.ttf",
    "JoSans-BoldItalic": "DejaVuSans-BoldOblique.ttf",
    "JoMono": "DejaVuSansMono.ttf",
}
_ROLE_COLORS = {"user": "#0969da", "assistant": "#8250df"}
CODE_LINE_LENGTH = 92
CODE_BACKGROUND = colors.HexColor("#f1f3f5")


class CodeBlock(Preformatted):
    """Monospace lines on a shaded background; splits across pages like any preformatted text."""

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        """The parts that fit and the rest, both shaded."""
        parts = super().split(avail_width, avail_height)
        return [CodeBlock("\n".join(part.lines), part.style) for part in parts]

    def draw(self) -> None:
        """The background, then the text."""
        left = self.style.leftIndent - 3
        self.canv.saveState()
        self.canv.setFillColor(CODE_BACKGROUND)
        width = self.width - left - self.style.rightIndent + 3
        self.canv.rect(left, -3, width, self.height + 2, stroke=0, fill=1)
        self.canv.restoreState()
        super().draw()


@functools.cache
def fonts() -> tuple[str, str]:
    """(body family, monospace font), registering DejaVu once when it is installed."""
    folder = next((d for d in FONT_DIRS if all((d / f).is_file() for f in _DEJAVU.values())), None)
    if folder is None:
        return "Helvetica", "Courier"
    for name, file in _DEJAVU.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(
        "JoSans", normal="JoSans", bold="JoSans-Bold", italic="JoSans-Italic",
        boldItalic="JoSans-BoldItalic",
    )  # fmt: skip
    return "JoSans", "JoMono"


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles of the document."""
    body, mono = fonts()
    base = ParagraphStyle(
        "body", fontName=body, fontSize=10, leading=14, alignment=TA_LEFT, spaceAfter=5
    )
    return {
        "body": base,
        "title": ParagraphStyle("title", base, fontSize=20, leading=25, spaceAfter=4),
        "summary": ParagraphStyle("summary", base, textColor=colors.HexColor("#59636e")),
        "role": ParagraphStyle("role", base, fontSize=10.5, spaceBefore=10, spaceAfter=4),
        "heading": ParagraphStyle("heading", base, fontSize=12, leading=16, spaceBefore=4),
        "code": ParagraphStyle(
            "code",
            base,
            fontName=mono,
            fontSize=8.5,
            leading=11,
            spaceBefore=6,
            spaceAfter=9,
        ),
    }


def _markup(runs: list[Run], mono: str) -> str:
    """ReportLab's paragraph markup for styled runs (text escaped)."""
    out = []
    for run in runs:
        text = escape(run.text).replace("\n", "<br/>")
        if run.code:
            text = f'<font face="{mono}" backColor="#eff1f3">{text}</font>'
        if run.bold:
            text = f"<b>{text}</b>"
        if run.italic:
            text = f"<i>{text}</i>"
        if run.strike:
            text = f"<strike>{text}</strike>"
        if run.href.startswith(("http://", "https://", "mailto:")):
            text = f'<a href={quoteattr(run.href)} color="#0969da">{text}</a>'
        out.append(text)
    return "".join(out)


def _flowable(block: Block, style: dict[str, ParagraphStyle], mono: str) -> Flowable:
    indent = 14 * (block.indent + block.quote)
    if block.kind == "code":
        code = ParagraphStyle("c", style["code"], leftIndent=indent + 4, rightIndent=4)
        return CodeBlock(block.text, code, maxLineLength=CODE_LINE_LENGTH, newLineChars="")
    if block.kind == "rule":
        return HRFlowable(width="100%", thickness=0.5, color=colors.HexColor("#d1d9e0"))
    text = _markup(block.runs, mono)
    if block.kind == "role":
        color = _ROLE_COLORS.get(block.role, "#59636e")
        return Paragraph(f'<font color="{color}">{text}</font>', style["role"])
    if block.kind in ("title", "summary", "heading"):
        return Paragraph(text, style[block.kind])
    if not indent:
        return Paragraph(text, style["body"])
    para = ParagraphStyle("p", style["body"], leftIndent=indent)
    if block.quote:
        para.textColor = colors.HexColor("#59636e")
    if block.bullet:
        return Paragraph(text, para, bulletText=block.bullet)
    return Paragraph(text, para)


def _pictures(message: dict[str, Any], width: float) -> list[Flowable]:
    """A message's images, scaled down to the page's width."""
    pictures: list[Flowable] = []
    for item in images(message):
        data = image_bytes(item)
        if data is None:
            continue
        reader = ImageReader(io.BytesIO(data))
        w, h = reader.getSize()
        scale = min(1.0, width / w, (120 * mm) / h)
        pictures.append(Image(io.BytesIO(data), width=w * scale, height=h * scale, hAlign="LEFT"))
    return pictures


def build_pdf(
    session: dict[str, Any],
    messages: Iterable[dict[str, Any]],
    options: ExportOptions,
    out: IO[bytes],
) -> None:
    """Write the conversation as a PDF to ``out``."""
    style, (_body, mono) = styles(), fonts()
    doc_width = A4[0] - 36 * mm
    story: list[Flowable] = [_flowable(b, style, mono) for b in title_blocks(session, options)]
    for message in messages:
        story.append(HRFlowable(width="100%", thickness=0.5, color=colors.HexColor("#d1d9e0")))
        story += [_flowable(b, style, mono) for b in message_blocks(message, options)]
        story += _pictures(message, doc_width)
    story.append(Spacer(1, 6))
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=title_of(session), creator=f"jupyter-opencode {__version__}",
    )  # fmt: skip
    doc.build(story)
