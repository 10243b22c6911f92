"""The Jupyter server extension: app, HTTP and WebSocket handlers, chat service, store."""
