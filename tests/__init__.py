"""The test suite as a package tree: every folder has an ``__init__.py``, so pytest's rootdir-based
import names each test module by its path (``tests.core.test_kill``) and the shared helpers
import as ``tests.helpers...`` with no sys.path edits; two folders can then also hold files of
the same name without one shadowing the other."""
