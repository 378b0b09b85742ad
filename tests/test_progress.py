"""Progress display: tqdm bar on a terminal, a few plain lines elsewhere, RTF shown."""

import io

import pytest

from pd14_pynn import progress as progress_module
from pd14_pynn.progress import ConnectProgress, SimulationProgress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_output_is_a_few_lines_with_rtf():
    stream = io.StringIO()
    bar = SimulationProgress(1000.0, "simulate", stream=stream)
    for step in range(1, 10001):  # 10,000 updates of 0.1 ms
        bar(step * 0.1)
    bar.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == progress_module.PLAIN_STEPS
    assert "\r" not in stream.getvalue()
    assert lines[-1].startswith("simulate: 100%") and "1000.0/1000.0" in lines[-1]
    assert all("RTF" in line for line in lines)


def test_rtf_is_wall_time_per_simulated_second(monkeypatch):
    clock = iter([100.0, 104.0])  # started at 100 s; 4 s later
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: next(clock))
    bar = SimulationProgress(1000.0, "simulate", stream=io.StringIO())
    bar.done = 500.0
    assert bar.rtf() == pytest.approx(8.0)  # 4 s wall for 0.5 s simulated


def test_terminal_gets_a_tqdm_bar_redrawn_in_place():
    stream = Terminal()
    bar = SimulationProgress(200.0, "presimulate", stream=stream)
    assert bar.bar is not None
    for done in (50.0, 100.0, 150.0):
        bar(done)
    bar.finish()
    text = stream.getvalue()
    assert "\r" in text and text.endswith("\n")
    assert "presimulate: 100%" in text and "RTF" in text
    assert bar.bar is None  # closed


def test_a_terminal_without_width_gets_plain_lines():
    # what Open MPI gives its ranks as stdout: a pseudo-terminal of 0 columns, on
    # which a tqdm bar shows nothing
    import fcntl
    import os
    import pty
    import struct
    import termios
    controller, terminal_fd = pty.openpty()
    try:
        with os.fdopen(terminal_fd, "w", closefd=False) as terminal:
            fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
            assert terminal.isatty() and not progress_module.is_terminal(terminal)
            fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            assert progress_module.is_terminal(terminal)
    finally:
        os.close(terminal_fd)
        os.close(controller)


def test_connect_progress_counts_synapses_and_names_projection():
    stream = io.StringIO()
    bar = ConnectProgress(1000, "connect", stream=stream)
    for i in range(20):
        bar.add(50, f"P{i}")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert bar.done == 1000
    assert len(lines) == progress_module.PLAIN_STEPS
    assert lines[-1].startswith("connect: 100%") and lines[-1].endswith("P19]")
