"""Browser checks of the per-message actions and /search results (harness page, no kernel)."""

from __future__ import annotations

from typing import Any

import pytest
from test_chat_widget import XSS, base_url, browser, custom, page, sent, shot

__all__ = ["base_url", "browser", "page"]  # the fixtures, shared with the widget tests

pytestmark = pytest.mark.browser

CONVERSATION = """{type: "reset", has_more: false, messages: [
  __msg("m1", "user", "Group the sales by region"),
  __msg("m2", "assistant", "Use `df.groupby('region').sum()`.",
    {annotation: {rating: "up", note: "exactly what I needed"}}),
  __msg("m3", "user", "Now by month"),
  __msg("m4", "assistant", "Resample by month."),
]}"""


def _hover(page: Any, mid: str) -> Any:
    message = page.locator(f".jo-msg[data-id={mid}]")
    message.hover()
    return message


def test_annotations_show_and_rate(page: Any) -> None:
    """A stored note shows under its message; rating and noting send annotate messages."""
    custom(page, CONVERSATION)
    page.wait_for_timeout(50)
    assert page.locator(".jo-msg[data-id=m2] .jo-annot-note").inner_text() == (
        "exactly what I needed"
    )
    answer = _hover(page, "m4")
    bar = answer.locator(".jo-actions")
    assert bar.is_visible() and bar.get_by_role("button", name="Edit and resend").count() == 0
    bar.get_by_role("button", name="Bad answer").click()
    assert sent(page)[-1] == {"type": "annotate", "message_id": "m4", "rating": "down", "note": ""}
    answer.get_by_role("button", name="Note").click()
    answer.get_by_role("textbox", name="Note").fill(f"wrong frequency {XSS}")
    shot(page, "actions-01-note")
    answer.get_by_role("button", name="Save note").click()
    assert sent(page)[-1] == {
        "type": "annotate", "message_id": "m4", "rating": "down", "note": f"wrong frequency {XSS}",
    }  # fmt: skip
    note = answer.locator(".jo-annot-note")
    assert note.inner_text() == f"wrong frequency {XSS}"
    assert page.evaluate("window.__pwned") is None
    custom(page, '{type: "annotation", message_id: "m2", annotation: null}')
    page.wait_for_timeout(50)
    assert page.locator(".jo-msg[data-id=m2] .jo-annot").count() == 0
    # A re-render keeps the badge (the renderer rebuilds the message's insides).
    custom(
        page,
        """{type: "frames", frames: [__message(__msg("m4", "assistant",
      "Resample by month, then sum.", {annotation: {rating: "down", note: "kept"}}))]}""",
    )
    page.wait_for_timeout(100)
    assert answer.locator(".jo-annot-note").inner_text() == "kept"


def test_edit_and_rewind(page: Any) -> None:
    """Edit and resend on user messages; rewind asks for a second click, then sends."""
    custom(page, CONVERSATION)
    question = _hover(page, "m3")
    shot(page, "actions-02-bar")
    question.get_by_role("button", name="Edit and resend").click()
    box = question.get_by_role("textbox", name="Edited message")
    assert box.input_value() == "Now by month"
    box.fill("Now by week")
    shot(page, "actions-02-edit")
    question.get_by_role("button", name="Send as a new branch").click()
    assert sent(page)[-1] == {"type": "edit", "message_id": "m3", "text": "Now by week"}
    assert question.locator(".jo-editor").count() == 0

    answer = _hover(page, "m2")
    rewind = answer.get_by_role("button", name="Rewind to here: remove what follows")
    rewind.click()
    assert sent(page)[-1]["type"] != "rewind"
    assert rewind.inner_text() == "Remove what follows?"
    shot(page, "actions-03-rewind")
    rewind.click()
    assert sent(page)[-1] == {"type": "rewind", "message_id": "m3"}
    question = _hover(page, "m3")
    question.get_by_role("button", name="Rewind: take back this message and what follows").click()
    question.get_by_role("button", name="Rewind: take back this message and what follows").click()
    assert sent(page)[-1] == {"type": "rewind", "message_id": "m3"}
    last = _hover(page, "m4")
    assert last.get_by_role("button", name="Rewind to here: remove what follows").count() == 0
    custom(
        page,
        """{type: "frames", frames: [
          __message(__msg("m5", "assistant", "", {status: "streaming"}))]}""",
    )
    page.wait_for_timeout(50)
    assert _hover(page, "m5").locator(".jo-actions").count() == 0


def test_search_results_open_sessions(page: Any) -> None:
    """Hits show plain-text snippets with marked ranges; clicking one switches session."""
    snippet = f"…use df.groupby on {XSS} region…"
    start = snippet.index("groupby")
    custom(
        page,
        f"""{{type: "search_results", query: "grou", hits: [
          {{session_id: "sess-bbbbbbbb", message_id: "x1", kind: "message", title: "Plot revenue",
            role: "user", created_at: 1, snippet: {snippet!r},
            highlights: [[{start}, {start + 7}], [5000, 5001]]}},
        ]}}""",
    )
    results = page.locator(".jo-search")
    assert results.is_visible()
    assert results.locator("mark").all_inner_texts() == ["groupby"]
    assert XSS in results.locator(".jo-hit-snippet").inner_text()
    assert page.evaluate("window.__pwned") is None and results.locator("img").count() == 0
    shot(page, "actions-04-search")
    results.get_by_role("button", name="Plot revenue").click()
    assert sent(page)[-1] == {"type": "switch", "session_id": "sess-bbbbbbbb"}
    assert not results.is_visible()
