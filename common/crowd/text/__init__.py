"""Text as editors address it: UTF-16 code units and VS Code line breaks.

The sidecar (``document``: open buffers) and the replayer (``utf16``: offsets, line/column maps)
both need it, so it sits at the bottom of the tree and imports nothing of crowd's.
"""
