"""Notebook tools for the agent: read, change and run cells, with approval and undo.

``cells`` holds the pure cell operations, ``documents`` reaches a notebook (the open document
in a browser through ``live``, else the file through the contents manager), ``approvals``
ties opencode's permission prompts to tool calls, ``records`` keeps what can be undone,
``tools`` runs the tool calls, which reach it over MCP (``mcp``: the protocol, spoken by the
Jupyter server's ``notebook/mcp`` route, which the worker connects to at start).
"""
