"""Asking a notebook's kernel about its variables, without output in the notebook."""

from __future__ import annotations

import ast
import asyncio
import json
from typing import Any

# Runs inside the kernel, in a namespace of its own: only the summaries come back.
_SUMMARIZE = """
def summarize(ns):
    import json, types
    skip = {"In", "Out", "exit", "quit", "get_ipython"}
    found = []
    for name, value in list(ns.items()):
        if name.startswith("_") or name in skip:
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType)):
            continue
        if isinstance(value, type):
            continue
        cls = type(value)
        kind = cls.__qualname__
        if cls.__module__ != "builtins":
            kind = f"{cls.__module__}.{kind}"
        shape = getattr(value, "shape", None)
        if shape is not None and hasattr(value, "columns"):
            text = f"shape {tuple(shape)}, columns {[str(c) for c in list(value.columns)[:30]]}"
        elif isinstance(shape, tuple):
            text = f"shape {shape}"
        elif hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
            text = f"length {len(value)}"
        else:
            text = repr(value)[:100]
        found.append({"name": name, "type": kind, "summary": text})
    return json.dumps(found[:300])
"""
_EXPRESSION = f"(lambda d: (exec({_SUMMARIZE!r}, d), d['summarize'](globals()))[1])({{}})"


class KernelError(Exception):
    """The kernel could not be asked, or answered with an error."""


async def _reply_to(client: Any, msg_id: str) -> dict[str, Any]:
    while True:
        reply: dict[str, Any] = await client.get_shell_msg()
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


async def variables(
    kernel_manager: Any, kernel_id: str, timeout: float = 20.0
) -> list[dict[str, str]]:
    """Names, types and short summaries of the variables in a kernel's namespace."""
    client = kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        msg_id = client.execute(
            "", silent=True, store_history=False, user_expressions={"v": _EXPRESSION}
        )
        reply = await asyncio.wait_for(_reply_to(client, msg_id), timeout)
    except asyncio.TimeoutError as e:
        raise KernelError(f"the kernel did not answer within {timeout:.0f} s (is it busy?)") from e
    finally:
        client.stop_channels()
    result = reply["content"].get("user_expressions", {}).get("v", {})
    if result.get("status") != "ok":
        raise KernelError(f"{result.get('ename', 'error')}: {result.get('evalue', '')}")
    found: list[dict[str, str]] = json.loads(ast.literal_eval(result["data"]["text/plain"]))
    return found
