"""Holding keystrokes of secret-shaped tokens until they are complete, so typed secrets are caught.

A secret typed one character at a time never appears whole in any single edit event, and
scrubbing the following viewport only hides it from the viewport: replaying the edits would
still rebuild it. So keystrokes are grouped into tokens (tokens.py), tokens that could be a
secret by shape are held from the key that makes them so (shapes.py, guard.py), and an ended
token that is a secret is rewritten into one marker edit (rewrite.py). The recording pipeline
(crowd.pipeline) puts every recorder's events through a ``TypingGuard``.
"""
from crowd.privacy.typing.context import Documents, LineContext, document_line_context
from crowd.privacy.typing.guard import TypingGuard
from crowd.privacy.typing.shapes import FIRM, FREE, shape_of

__all__ = ["Documents", "FIRM", "FREE", "LineContext", "TypingGuard", "document_line_context", "shape_of"]
