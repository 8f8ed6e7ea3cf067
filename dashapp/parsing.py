"""Values from the browser, the JSON API and the command line, checked before use.

Nothing here imports Dash: the callbacks, the API and ``python -m dashapp`` share
these parsers. Each returns a clean value or raises :class:`BadInputError` (a
``ValueError``) whose message names the parameter and the value; its ``code`` and
``values`` let the screens word it in the user's language (catalogue keys
``bad.<code>`` in :mod:`dashapp.i18n`).

Examples
--------
>>> parse_id("42", "scenario")
42
>>> parse_id(99999999999999999999999, "scenario")
Traceback (most recent call last):
...
dashapp.parsing.BadIdError: 'scenario' should be a whole number from 1 to \
9223372036854775807, got 99999999999999999999999
"""

from __future__ import annotations

import math
import numbers
import re
from pathlib import PurePosixPath
from typing import Any

#: Largest id a 64-bit signed integer column (SQLite INTEGER, BIGINT) holds.
ID_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NAME_MAX_BYTES = 255  # longest file name most file systems accept


class BadInputError(ValueError):
    """A value that cannot be used, with a message for logs and the API.

    Attributes
    ----------
    code : str
        Stable reason, for translating the message (``bad.<code>``).
    values : dict
        What the message quotes (``name``, ``value``...), as short strings.
    """

    def __init__(self, message: str, code: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


class BadIdError(BadInputError):
    """Not an id: wrong type, not decimal digits, or outside 1..2**63-1."""

    def __init__(self, name: str, value: Any) -> None:
        shown = shown_value(value)
        super().__init__(
            f"'{name}' should be a whole number from 1 to {ID_MAX}, got {shown}",
            "id",
            name=name,
            value=shown,
        )


class UnknownIdError(BadInputError):
    """A well-formed id that nothing in the store has."""

    def __init__(self, name: str, value: int) -> None:
        super().__init__(
            f"no {name} with id {value}", "unknown_id", name=name, value=value
        )


def shown_value(value: Any, limit: int = 40) -> str:
    """``repr`` of a value cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_id(value: Any, name: str) -> int:
    """An id from untrusted input: an int, or a string of decimal digits.

    Parameters
    ----------
    value : Any
        What the browser, the API or the command line sent.
    name : str
        The parameter, quoted by the message.

    Returns
    -------
    int
        In ``1..2**63-1``, so it fits a 64-bit integer column.

    Raises
    ------
    BadIdError
        For booleans, floats (even ``1.0``), lists, dicts, ``None``, text other
        than ASCII digits (signs, spaces, ``1e3``, ``1_0``), zero, negative
        numbers and numbers above :data:`ID_MAX`.

    Examples
    --------
    >>> parse_id(7, "dataset"), parse_id("007", "dataset")
    (7, 7)
    >>> parse_id(True, "dataset")
    Traceback (most recent call last):
    ...
    dashapp.parsing.BadIdError: 'dataset' should be a whole number from 1 to \
9223372036854775807, got True
    """
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise BadIdError(name, value)
        number = int(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    else:
        raise BadIdError(name, value)
    if not 1 <= number <= ID_MAX:
        raise BadIdError(name, value)
    return number


def parse_ids(values: Any, name: str, *, most: int = 100) -> list[int]:
    """A list of ids (a multi-select's value); ``None`` is the empty list.

    Examples
    --------
    >>> parse_ids([3, "4"], "scenarios")
    [3, 4]
    >>> parse_ids("3", "picks")
    Traceback (most recent call last):
    ...
    dashapp.parsing.BadInputError: 'picks' should be a list of at most 100 ids, got '3'
    """
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > most:
        raise BadInputError(
            f"'{name}' should be a list of at most {most} ids, got "
            f"{shown_value(values)}",
            "ids",
            name=name,
            value=shown_value(values),
        )
    return [parse_id(v, name) for v in values]


def parse_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """A finite number (int, float or decimal text) within ``minimum..maximum``.

    Examples
    --------
    >>> parse_number("0.02", "rate", minimum=0)
    0.02
    >>> parse_number("nan", "rate", minimum=0)
    Traceback (most recent call last):
    ...
    dashapp.parsing.BadInputError: 'rate' should be a finite number >= 0, got 'nan'
    """
    bounds = " and ".join(
        f"{op} {b:g}" for op, b in ((">=", minimum), ("<=", maximum)) if b is not None
    )
    problem = BadInputError(
        f"'{name}' should be a finite number{' ' + bounds if bounds else ''}, got "
        f"{shown_value(value)}",
        "number",
        name=name,
        value=shown_value(value),
        bounds=bounds,
    )
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise problem
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise problem from None
    if not math.isfinite(number):
        raise problem
    if (minimum is not None and number < minimum) or (
        maximum is not None and number > maximum
    ):
        raise problem
    return number


def upload_name(name: Any) -> str:
    """The base name under which an uploaded file is kept; never a path.

    Anything up to the last ``/`` or ``\\`` is dropped; a result that is empty,
    ``.`` or ``..``, made only of dots, longer than 255 bytes, or holding NUL or
    other control characters is refused.

    Examples
    --------
    >>> upload_name("../../etc/communes.geojson")
    'communes.geojson'
    >>> upload_name("a/..")
    Traceback (most recent call last):
    ...
    dashapp.parsing.BadInputError: file name 'a/..' cannot be used: it is empty, only \
dots or slashes, too long, or holds control characters
    """
    problem = BadInputError(
        f"file name {shown_value(name)} cannot be used: it is empty, only dots or "
        "slashes, too long, or holds control characters",
        "upload_name",
        value=shown_value(name),
    )
    if not isinstance(name, str) or _CONTROL.search(name):
        raise problem
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    try:
        size = len(base.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: no file system takes them
        raise problem from None
    if not base or set(base) == {"."} or size > NAME_MAX_BYTES:
        raise problem
    return base
