"""Privacy at capture time: secret files are never read, secrets in text become markers.

``is_secret_path(rel)`` is consulted by everything that reads workspace files (watcher,
cache, snapshot store) before opening them; ``Redactor.scrub_event(event)`` is run by the
recording pipeline (crowd.pipeline) on every event before it is written; ``TypingGuard``
(crowd.privacy.typing) holds keystroke-by-keystroke input until the token being typed is
complete, so a secret typed one character at a time is also replaced (see docs/privacy.md
for exactly what is guaranteed).
"""
from crowd.privacy.detect import Finding, SecretFinder
from crowd.privacy.paths import DEFAULT_SECRET_GLOBS, SecretPathPolicy, is_secret_path
from crowd.privacy.redactor import Redactor, marker

__all__ = ["DEFAULT_SECRET_GLOBS", "Finding", "Redactor", "SecretFinder", "SecretPathPolicy",
           "is_secret_path", "marker"]
