"""The DOCX export, written by python-docx from the shared Markdown rendering."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO, Any

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.shared import Inches, Pt, RGBColor
from docx.text.paragraph import Paragraph

from ..._version import __version__
from .attached import image_bytes, images
from .blocks import Block, Run, message_blocks, title_blocks
from .markdown import title_of
from .options import ExportOptions

MONOSPACE = "Consolas"
_ROLE_COLORS = {"user": RGBColor(0x09, 0x69, 0xDA), "assistant": RGBColor(0x82, 0x50, 0xDF)}
_GREY = RGBColor(0x59, 0x63, 0x6E)
_STYLES = ("Code Block", "Message Heading", "List Bullet", "List Number", "Quote")


class _Writer:
    """Adds blocks to one document."""

    def __init__(self) -> None:
        self.document = Document()
        styles = self.document.styles
        code = styles.add_style("Code Block", WD_STYLE_TYPE.PARAGRAPH)
        code.base_style = styles["Normal"]
        code.font.name = MONOSPACE
        code.font.size = Pt(9)
        code.paragraph_format.left_indent = Pt(12)
        code.paragraph_format.space_after = Pt(6)
        role = styles.add_style("Message Heading", WD_STYLE_TYPE.PARAGRAPH)
        role.base_style = styles["Normal"]
        role.font.bold = True
        role.paragraph_format.space_before = Pt(14)
        role.paragraph_format.keep_with_next = True
        # Styles are set by id: python-docx resolves a style name by scanning every style of
        # the document, over a millisecond per paragraph.
        self.style_ids = {name: styles[name].style_id for name in _STYLES}
        self.body = self.document.element.body
        self.end = self.body.sectPr

    def paragraph(self, style: str | None = None) -> Paragraph:
        """A new paragraph at the end, in a style of ``_STYLES`` or Normal."""
        # Put in place before the section properties directly: add_paragraph looks for them
        # among all the body's children each time, which grows quadratic with the document.
        element = OxmlElement("w:p")
        self.end.addprevious(element)
        paragraph = Paragraph(element, self.document)
        if style is not None:
            element.style = self.style_ids[style]
        return paragraph

    def block(self, block: Block) -> None:
        """Write one block."""
        indent = block.indent + block.quote
        if block.kind == "title":
            self.document.add_heading(block.runs[0].text, level=0)
        elif block.kind == "heading":
            _write_runs(self.document.add_heading(level=min(block.level + 1, 9)), block.runs)
        elif block.kind == "role":
            paragraph = self.paragraph("Message Heading")
            _write_runs(paragraph, block.runs)
            paragraph.runs[0].font.color.rgb = _ROLE_COLORS.get(block.role, _GREY)
        elif block.kind == "code":
            paragraph = self.paragraph("Code Block")
            paragraph.add_run(block.text)  # one run: its newlines become line breaks
            if indent:
                paragraph.paragraph_format.left_indent = Pt(12 + 18 * indent)
        elif block.kind == "rule":
            self.paragraph().add_run("—" * 12).font.color.rgb = _GREY
        else:
            style = None
            if block.bullet:
                style = "List Number" if block.bullet[0].isdigit() else "List Bullet"
            elif block.quote:
                style = "Quote"
            paragraph = self.paragraph(style)
            _write_runs(paragraph, block.runs)
            if block.indent > 1:
                paragraph.paragraph_format.left_indent = Pt(18 * block.indent)


def _write_runs(paragraph: Paragraph, runs: list[Run]) -> None:
    for run in runs:
        added = paragraph.add_run(run.text)
        if run.bold:
            added.bold = True
        if run.italic:
            added.italic = True
        if run.strike:
            added.font.strike = True
        if run.code:
            added.font.name = MONOSPACE
        if run.href:
            added.underline = True


_PICTURE_WIDTH = Inches(6)


def build_docx(
    session: dict[str, Any],
    messages: Iterable[dict[str, Any]],
    options: ExportOptions,
    out: IO[bytes],
) -> None:
    """Write the conversation as a Word document to ``out``."""
    writer = _Writer()
    writer.document.core_properties.title = title_of(session)
    writer.document.core_properties.author = f"jupyter-opencode {__version__}"
    for block in title_blocks(session, options):
        writer.block(block)
    for message in messages:
        for block in message_blocks(message, options):
            writer.block(block)
        for item in images(message):
            data = image_bytes(item)
            if data is not None:
                picture = writer.document.add_picture(io.BytesIO(data))
                if picture.width > _PICTURE_WIDTH:  # scaled down to the page, never up
                    picture.height = int(picture.height * _PICTURE_WIDTH / picture.width)
                    picture.width = _PICTURE_WIDTH
    writer.document.save(out)
