"""Version of the jupyter-opencode package."""

__version__ = "0.1.0"
