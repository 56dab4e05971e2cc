"""Text as editors address it: UTF-16 code units and VS Code line breaks.

One model for the sidecar (which keeps the editor's open buffers) and the replayer (which
rebuilds them from a recording): ``utf16`` converts offsets, ``lines`` counts lines,
``document`` applies edits. It sits at the bottom of the tree and imports nothing of crowd's
outside itself, so both can use it.
"""
