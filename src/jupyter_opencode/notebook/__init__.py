"""Notebook tools for the agent: read, change and run cells, with approval and undo.

``cells`` holds the pure cell operations, ``documents`` reaches a notebook (the open document
in a browser through ``live``, else the file through the contents manager), ``approvals``
ties opencode's permission prompts to tool calls, ``records`` keeps what can be undone,
``tools`` answers the tool calls of ``mcp_server`` (the stdio MCP server the worker runs,
which alone imports the MCP SDK; ``mcp_link`` holds what the server tells it).
"""
