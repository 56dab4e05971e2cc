"""Package data: the editor bridge's .vsix, copied here by editor-bridge/scripts/setup.sh.

The file is a build output (git-ignored); it lives inside the Python package so that an
installed crowd can run ``crowd install-extension`` without the repository.
"""
