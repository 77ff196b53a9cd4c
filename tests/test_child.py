"""core.child: the one way the project runs work in a child process — messages both ways, flags, and an
end that is reported truthfully whether the child finished, died or was ended."""

import os
import signal
import time

import pytest

from core.child import Child


def echo(inbox, outbox, stop):
    """Send back every message until told to stop (the flag), then say goodbye."""
    while not stop.is_set():
        if inbox.poll(0.05):
            outbox.send(inbox.recv() * 2)
    outbox.send("bye")


def die(inbox, outbox, code):
    os._exit(code)


def sleep(inbox, outbox):
    time.sleep(60)


def test_messages_go_both_ways_and_a_flag_reaches_the_child():
    child = Child(echo, flags=("stop",))
    try:
        child.send(21)
        assert child.poll(30) and child.recv() == 42
        child.flags["stop"].set()
        assert child.poll(10) and child.recv() == "bye"
        child.join(10)
        assert child.exit_reason() == "exit code 0"
    finally:
        child.end()
        child.close()


def test_a_child_that_dies_ends_the_parents_wait_with_its_exit_code():
    child = Child(die, 3)
    try:
        assert child.poll(30)  # not a message: the pipe closed with the process
        with pytest.raises(EOFError):
            child.recv()
        child.join(10)
        assert child.exit_reason() == "exit code 3"
    finally:
        child.close()


def test_end_stops_a_busy_child_at_once_and_names_the_signal():
    child = Child(sleep)
    try:
        assert child.alive
        started = time.monotonic()
        child.end()
        assert not child.alive and time.monotonic() - started < 5
        assert child.exit_reason() == f"killed by signal {signal.SIGTERM.name}"
    finally:
        child.close()
