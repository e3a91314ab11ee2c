"""How numbers and lists read in sentences, tables and documents."""

from __future__ import annotations

from typing import Iterable


def rounded(value, decimals: int = 2):
    """A whole float as an int (3.0 -> 3), other floats rounded; anything
    else as it is."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, decimals)
    return value


def number(value, decimals: int = 1) -> str:
    """``rounded`` as text: 3.0 -> '3', 2.25 -> '2.2'."""
    return str(rounded(value, decimals))


def listed(labels: Iterable[str], limit: int = 8) -> str:
    """The first ``limit`` labels, and how many more there are."""
    labels = list(labels)
    text = ', '.join(labels[:limit])
    if len(labels) > limit:
        text += ' and %d more' % (len(labels) - limit)
    return text
