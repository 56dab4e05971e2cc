"""The watchdog adapter (crowd.server.watch.observer): the installed watchdog is checked
against the range the adapter was written for, with a clear error below it and a warning
above it; version strings with suffixes parse."""
from __future__ import annotations

import logging

import pytest

from crowd.server.watch.observer import (
    SUPPORTED_BELOW, SUPPORTED_MIN, WatchdogVersionError, check_version, installed_version, parse_version,
)


def test_versions_parse_to_their_numeric_parts() -> None:
    assert parse_version("7.1.1") == (7, 1, 1)
    assert parse_version("8.0rc1") == (8, 0)
    assert parse_version("6.0.0.post1") == (6, 0, 0)
    with pytest.raises(ValueError):
        parse_version("dev")


def test_the_installed_watchdog_is_in_the_supported_range() -> None:
    found = check_version()
    assert found == parse_version(installed_version())
    assert SUPPORTED_MIN <= found < SUPPORTED_BELOW


def test_an_older_watchdog_is_a_clear_error() -> None:
    with pytest.raises(WatchdogVersionError, match=r"watchdog 5\.0\.3 is too old.*>= 6\.0"):
        check_version("5.0.3")


def test_a_newer_watchdog_warns_and_is_accepted(caplog: pytest.LogCaptureFixture) -> None:
    newer = ".".join(map(str, SUPPORTED_BELOW))
    with caplog.at_level(logging.WARNING, logger="crowd.server.watch.observer"):
        assert check_version(newer) == SUPPORTED_BELOW
    assert any(f"watchdog {newer} is newer" in r.getMessage() for r in caplog.records)


def test_a_supported_watchdog_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="crowd.server.watch.observer"):
        assert check_version("7.1.1") == (7, 1, 1)
    assert not caplog.records
