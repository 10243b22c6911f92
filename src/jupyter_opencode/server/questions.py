"""The agent's questions to the user (opencode's ``question`` tool): the part kept with the
answer, and the checks an answer passes before it goes to opencode."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

WAITING = "Waiting for your answer"
MAX_CUSTOM_CHARS = 10_000
_REMEMBERED = 1000


class UnknownQuestion(Exception):
    """The session has no question waiting with this id."""


class QuestionAnswered(Exception):
    """The question was answered (or dismissed) already."""


class BadAnswers(ValueError):
    """Answers that do not fit the questions asked."""


def _option(option: Any) -> dict[str, str]:
    option = option if isinstance(option, dict) else {}
    return {
        "label": str(option.get("label") or ""),
        "description": str(option.get("description") or ""),
    }


def _info(info: Any) -> dict[str, Any]:
    info = info if isinstance(info, dict) else {}
    return {
        "question": str(info.get("question") or ""),
        "header": str(info.get("header") or ""),
        "options": [_option(o) for o in info.get("options") or []],
        "multiple": bool(info.get("multiple")),
        # opencode lets the user type an answer of their own unless the agent says otherwise.
        "custom": info.get("custom") is not False,
    }


def question_part(props: dict[str, Any]) -> dict[str, Any]:
    """The part of a ``question.asked`` event, as streamed and stored with the answer."""
    return {
        "kind": "question",
        "id": str(props.get("id")),
        "questions": [_info(q) for q in props.get("questions") or []],
    }


def settled(part: dict[str, Any]) -> bool:
    """Whether a question part has its answer (or was dismissed)."""
    return "answers" in part or bool(part.get("rejected"))


def check_answers(part: dict[str, Any], answers: list[list[str]]) -> list[list[str]]:
    """The answers, one list of labels per question, checked against what was asked."""
    questions = part["questions"]
    if len(answers) != len(questions):
        raise BadAnswers(f"'answers' must hold one list per question ({len(questions)})")
    for index, (question, chosen) in enumerate(zip(questions, answers, strict=True)):
        labels = {o["label"] for o in question["options"]}
        if not chosen:
            raise BadAnswers(f"answer {index + 1} is empty: pick an option")
        if len(chosen) > 1 and not question["multiple"]:
            raise BadAnswers(f"question {index + 1} takes one answer")
        for label in chosen:
            if label in labels:
                continue
            if not question["custom"]:
                raise BadAnswers(f"answer {index + 1}: {label!r} is not one of the options")
            if not label.strip() or len(label) > MAX_CUSTOM_CHARS:
                raise BadAnswers(
                    f"answer {index + 1}: a typed answer must be 1 to {MAX_CUSTOM_CHARS} characters"
                )
    return answers


class AnsweredQuestions:
    """Ids of recently answered questions, so a second answer gets a 409 rather than a 404."""

    def __init__(self) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, question_id: str) -> None:
        """Remember an answered question (the oldest are forgotten)."""
        self._ids[question_id] = None
        while len(self._ids) > _REMEMBERED:
            self._ids.popitem(last=False)

    def discard(self, question_id: str) -> None:
        """Forget an answer that did not reach opencode."""
        self._ids.pop(question_id, None)

    def __contains__(self, question_id: object) -> bool:
        return question_id in self._ids
