"""Exceptions and planner-readable reasons raised by the optimisation engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["InfeasibleError", "OptimizationError", "Reason", "fmt_number"]


def fmt_number(value: float, digits: int = 0) -> str:
    """Format a number with thousands separators, e.g. ``12,300`` or ``84.2``.

    Examples
    --------
    >>> fmt_number(12300)
    '12,300'
    >>> fmt_number(84.24, 1)
    '84.2'
    """
    return f"{value:,.{digits}f}"


@dataclass(frozen=True)
class Reason:
    """One explanation of why a model cannot be solved.

    Parameters
    ----------
    code : str
        Stable identifier (``"capacity_below_demand"``, ``"commune_out_of_reach"``,
        ...) so that a user interface can translate the message.
    message : str
        English sentence a planner understands.
    params : dict
        The figures quoted in ``message``, for translation.
    """

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class OptimizationError(Exception):
    """Base class of the errors raised while solving a model."""


class InfeasibleError(OptimizationError):
    """The model has no feasible solution; ``reasons`` says why in plain words.

    Examples
    --------
    >>> err = InfeasibleError([Reason("x", "total capacity 10 is below demand 12")])
    >>> str(err)
    'The plan is infeasible: total capacity 10 is below demand 12'
    """

    def __init__(self, reasons: list[Reason]):
        self.reasons = list(reasons)
        text = "; ".join(r.message for r in self.reasons) or "no reason found"
        super().__init__(f"The plan is infeasible: {text}")
