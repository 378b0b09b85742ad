"""The model's population names, in the order of every 8-element parameter and
every 8 x 8 matrix ([target, source]) of the package.

Its own module so that parameters (data) and derive (pure functions) can both
use it without importing each other.
"""

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
