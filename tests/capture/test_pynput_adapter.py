"""The pynput adapter (crowd.capture.pynput_adapter): the installed pynput is checked against
the range its prompt stop was written for; outside it a warning and pynput's public stop()
only. On a real X screen, listeners in that range stop at once without any input."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from crowd.capture.pynput_adapter import (
    SUPPORTED_BELOW, SUPPORTED_MIN, Callbacks, Listeners, installed_version, internals_supported, parse_version,
)

LOGGER = "crowd.capture"


def test_versions_parse_to_major_and_minor() -> None:
    assert parse_version("1.8.2") == (1, 8)
    assert parse_version("2.0rc1") == (2, 0)
    assert parse_version("2") == (2, 0)
    with pytest.raises(ValueError):
        parse_version("dev")


def test_the_installed_pynput_is_in_the_supported_range(caplog: pytest.LogCaptureFixture) -> None:
    text = installed_version()
    assert text is not None
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert internals_supported(text)
    assert SUPPORTED_MIN <= parse_version(text) < SUPPORTED_BELOW and not caplog.records


@pytest.mark.parametrize("text", ["1.7.0", "1.7.6", "1.8.2"])
def test_a_supported_pynput_says_nothing(text: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert internals_supported(text)
    assert not caplog.records


@pytest.mark.parametrize("text", ["1.6.3", ".".join(map(str, SUPPORTED_BELOW)), "2.0", "dev"])
def test_outside_the_range_it_warns_and_uses_the_public_stop(text: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert not internals_supported(text)
        assert not Listeners(_ignore_input(), version=text).prompt_stop
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and all(f"pynput {text} is outside" in m and "public stop()" in m for m in messages)


def test_an_unknown_version_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert not internals_supported(None)
    assert "pynput (version unknown) is outside" in caplog.records[0].getMessage()


def _ignore_input(on_click: Callable[[float, float, str, bool], None] = lambda x, y, b, pressed: None) -> Callbacks:
    return Callbacks(key_press=lambda key: None, key_release=lambda key: None, move=lambda x, y: None,
                     click=on_click, scroll=lambda x, y, dx, dy: None)


@pytest.mark.gui
def test_supported_listeners_see_input_and_stop_at_once_on_a_quiet_screen(
        screen, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", screen.display)
    clicked = threading.Event()
    listeners = Listeners(_ignore_input(on_click=lambda x, y, button, pressed: button == "Left" and clicked.set()))
    assert listeners.prompt_stop
    listeners.start()
    screen.xdotool("click", "1")
    assert clicked.wait(10)
    started = time.monotonic()
    listeners.stop()   # no input follows: the public stop alone would wait for the join timeout
    assert time.monotonic() - started < 2.0
