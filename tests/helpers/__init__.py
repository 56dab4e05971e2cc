"""Helpers shared by more than one test folder (each folder keeps what only it uses in its own
``conftest.py`` or helper module). Fixtures built on these live in ``tests/conftest.py``."""
