"""The dock's buzzer and LEDs, on gpiozero's own MockFactory pins."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory

from gateway.config import DockConfig
from gateway.dock_feedback import GpioFeedback, LogFeedback, open_feedback
from tests.gateway.conftest import eventually

BUZZER, OK, ERR = 18, 23, 24
PINS = DockConfig(evdev_path="x", buzzer_pin=BUZZER, led_ok_pin=OK, led_err_pin=ERR)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.close()


def states(factory: MockFactory, pin: int) -> list[bool]:
    return [s.state for s in factory.pin(pin).states]


async def test_taken_is_a_short_beep_and_the_green_led(factory: MockFactory) -> None:
    feedback = open_feedback(PINS, pin_factory=factory)
    assert isinstance(feedback, GpioFeedback)
    feedback.signal("taken")
    assert (factory.pin(BUZZER).state, factory.pin(OK).state, factory.pin(ERR).state) == (
        True, True, False,
    )  # fmt: skip
    await eventually(lambda: not factory.pin(OK).state)
    assert states(factory, BUZZER) == [False, True, False]
    assert states(factory, OK) == [False, True, False]
    assert states(factory, ERR) == [False]
    feedback.close()


async def test_refused_is_a_long_beep_and_the_red_led_and_cuts_a_taken_short(
    factory: MockFactory,
) -> None:
    feedback = open_feedback(PINS, pin_factory=factory)
    feedback.signal("taken")
    feedback.signal("refused", "reader overrun")
    assert (factory.pin(BUZZER).state, factory.pin(OK).state, factory.pin(ERR).state) == (
        True, False, True,
    )  # fmt: skip
    await eventually(lambda: not factory.pin(ERR).state, timeout=5)
    assert not factory.pin(BUZZER).state
    assert list(feedback.given) == ["taken", "refused"]
    feedback.close()


async def test_some_pins_may_be_left_out(factory: MockFactory) -> None:
    config = DockConfig(evdev_path="x", led_err_pin=ERR)
    feedback = open_feedback(config, pin_factory=factory)
    feedback.signal("taken")  # no green LED, no buzzer: only the log line
    feedback.signal("refused")
    assert factory.pin(ERR).state
    feedback.close()


def test_without_pins_feedback_is_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    feedback = open_feedback(DockConfig(evdev_path="x"))
    assert type(feedback) is LogFeedback
    with caplog.at_level(logging.INFO, "gateway.dock_feedback"):
        feedback.signal("refused", "scan a mode label first")
    assert "dock dock-1: refused (scan a mode label first)" in caplog.text


def test_pins_that_cannot_be_driven_fall_back_to_the_log(
    factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    held = LED(OK, pin_factory=factory)  # someone else holds the green LED's pin
    with caplog.at_level(logging.WARNING, "gateway.dock_feedback"):
        feedback = open_feedback(PINS, pin_factory=factory)
    assert type(feedback) is LogFeedback
    assert "feedback is logged only" in caplog.text
    assert not factory.pin(BUZZER).state
    held.close()
