"""Exporting sessions (Markdown, text, JSON, HTML, PDF, DOCX, notebook; one or a zip of many)
and importing JSON exports back: ``pipeline`` runs an export, ``importing`` reads one back."""
