"""crowd: record how humans and their AI agents do software engineering and computer work.

The data flow reads from the folder names:
editor/terminal/desktop event in (``crowd.server``, ``crowd.capture``) -> state updated ->
record written and read (``crowd.serializer``) -> training example out
(``crowd.serializer`` converters, ``crowd.idm``).
"""

__version__ = "0.1.0"
