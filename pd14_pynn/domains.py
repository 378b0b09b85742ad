"""Allowed values of a parameter, as data: intervals of numbers, choices, flags.

* :class:`Number` -- a finite number (or integer) in an interval written as in
  mathematics, e.g. ``Number("(0, 1]")`` or ``Number("[0, inf)", integer=True)``;
  optionally on a grid (``grid=0.001``: a multiple of 0.001), optionally ``None``
  ("auto"), for one value, one value per population (``shape=(8,)``) or a matrix.
* :class:`Choice` -- one of a few strings; :class:`Flag` -- ``true`` or ``false``.

Each domain answers :meth:`problem` with ``None`` (allowed) or the text of one
``error:`` line naming the parameter, the value and what is allowed.
"""

import math
import numbers

import numpy as np


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _bound(text):
    return float(text.strip())  # float() reads "inf" and "-inf"


class Number:
    """Numbers in an interval ``"(low, high]"`` (brackets: closed, parentheses: open)."""

    def __init__(self, interval, integer=False, shape=(), grid=None, optional=False, unit="",
                 why=""):
        interval = interval.strip()
        low, high = interval[1:-1].split(",")
        self.interval = interval
        self.low, self.high = _bound(low), _bound(high)
        self.low_open, self.high_open = interval[0] == "(", interval[-1] == ")"
        self.integer, self.shape, self.grid = integer, tuple(shape), grid
        self.optional, self.unit, self.why = optional, unit, why

    def _fmt(self, bound):
        return str(int(bound)) if self.integer and math.isfinite(bound) else f"{bound:g}"

    def _range_text(self):
        """``> 0``, ``in (0, 1]``, ... with the unit; "" for any finite value."""
        unit = f" ({self.unit})" if self.unit else ""
        if self.high == math.inf and self.low == -math.inf:
            return unit.strip()
        if self.high == math.inf:
            text = f"{'>' if self.low_open else '>='} {self._fmt(self.low)}"
        elif self.low == -math.inf:
            text = f"{'<' if self.high_open else '<='} {self._fmt(self.high)}"
        else:
            text = (f"in {self.interval[0]}{self._fmt(self.low)}, {self._fmt(self.high)}"
                    f"{self.interval[-1]}")
        return text + unit

    def describe(self):
        """What is allowed, e.g. ``a number in (0, 1]`` or ``8 integers, each >= 0``."""
        kind = "integer" if self.integer else "number"
        if self.low == -math.inf and self.high == math.inf:
            kind = "finite " + kind
        condition = self._range_text() + (f", a multiple of {self.grid:g}" if self.grid else "")
        if self.shape == ():
            article = "an" if kind[0] in "aeiou" else "a"
            text = f"{article} {kind} {condition}"
        elif len(self.shape) == 1:
            text = f"{self.shape[0]} {kind}s (one per population), each {condition}"
        else:
            text = (f"an {'x'.join(map(str, self.shape))} matrix [target][source] of {kind}s, "
                    f"each {condition}")
        if self.optional:
            text = f"null (auto) or {text}"
        text = text.replace(", each (", " (").rstrip(" ,").replace(", each ", ", each ")
        return text + (f" ({self.why})" if self.why else "")

    def _scalar_ok(self, value):
        if not (_is_integer(value) if self.integer else _is_real(value)):
            return False
        if not math.isfinite(value):
            return False
        if value < self.low or value > self.high:
            return False
        if (self.low_open and value == self.low) or (self.high_open and value == self.high):
            return False
        if self.grid and not on_grid(value, self.grid):
            return False
        return True

    def _bad_element(self, value, shape, path):
        """``(path, element)`` of the first element that breaks the domain, or None;
        ``(path, value)`` with the whole value if the shape is wrong."""
        if not shape:
            return None if self._scalar_ok(value) else (path, value)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, (list, tuple)) or len(value) != shape[0]:
            return ("", None)
        for i, element in enumerate(value):
            bad = self._bad_element(element, shape[1:], f"{path}[{i}]")
            if bad is not None:
                return bad
        return None

    def problem(self, name, value):
        """None if ``value`` is allowed, else one line naming name, value and domain."""
        if self.optional and value is None:
            return None
        bad = self._bad_element(value, self.shape, "")
        if bad is None:
            return None
        path, element = bad
        if path:
            return f"{name}{path} = {element!r} is not allowed: {name} must be {self.describe()}"
        return f"{name} = {short_repr(value)} is not allowed: it must be {self.describe()}"


class Choice:
    """One of a few allowed strings (or None where ``optional``: chosen automatically)."""

    def __init__(self, *options, optional=False):
        self.options = options
        self.optional = optional

    def describe(self):
        text = "one of " + ", ".join(repr(option) for option in self.options)
        return text + " (or null: automatic)" if self.optional else text

    def problem(self, name, value):
        if isinstance(value, str) and value in self.options:
            return None
        if value is None and self.optional:
            return None
        return f"{name} = {short_repr(value)} is not allowed: it must be {self.describe()}"


class Flag:
    """``true`` or ``false``."""

    def describe(self):
        return "true or false"

    def problem(self, name, value):
        if isinstance(value, (bool, np.bool_)):
            return None
        return f"{name} = {short_repr(value)} is not allowed: it must be {self.describe()}"


def on_grid(value, step):
    """True if ``value`` is a multiple of ``step`` (up to float rounding)."""
    return abs(round(value / step) * step - value) <= 1e-9 * max(1.0, abs(value))


def short_repr(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
