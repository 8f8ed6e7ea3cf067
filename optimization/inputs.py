"""Validation of model inputs and the rules that say which sites may open."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "EquityRule",
    "Labels",
    "SiteRules",
    "check_cost_matrix",
    "check_weights",
    "site_mask",
]


def check_cost_matrix(cost: Any, name: str = "cost_matrix") -> np.ndarray:
    """Return ``cost`` as a float (n, m) array; ``inf`` marks a forbidden pair.

    Raises
    ------
    ValueError
        Empty, not 2-D, NaN or negative entries.
    """
    if hasattr(cost, "to_numpy"):
        cost = cost.to_numpy()
    try:
        arr = np.array(cost, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"'{name}' should be a numeric 2-D array, got {type(cost)}"
        ) from exc
    if arr.ndim != 2:
        raise ValueError(
            f"'{name}' should be 2-D (demand x sites), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"'{name}' is empty (shape {arr.shape}): no demand points or no sites"
        )
    if np.isnan(arr).any():
        i, j = np.argwhere(np.isnan(arr))[0]
        raise ValueError(
            f"'{name}' has NaN at ({i}, {j}); mark a forbidden pair with inf, "
            "never leave it missing"
        )
    if (arr < 0).any():
        raise ValueError(f"'{name}' has negative entries (min {arr.min():g})")
    return arr


def check_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
    """Return ``weights`` as a float (n,) array after checking NaN, sign and size."""
    if hasattr(weights, "to_numpy"):
        weights = weights.to_numpy()
    arr = np.asarray(weights, dtype=float).ravel()
    if arr.shape != (n,):
        raise ValueError(
            f"'{name}' has {arr.size} values but the cost matrix has {n} rows"
        )
    if np.isnan(arr).any():
        raise ValueError(
            f"'{name}' contains NaN (first at position {int(np.argmax(np.isnan(arr)))})"
        )
    if np.isinf(arr).any():
        raise ValueError(f"'{name}' contains infinite values")
    if (arr < 0).any():
        raise ValueError(f"'{name}' contains negative values (min {arr.min():g})")
    return arr


def site_mask(value: Any, m: int, name: str) -> np.ndarray:
    """Turn a boolean mask or a list of site positions into a boolean (m,) mask."""
    if value is None:
        return np.zeros(m, dtype=bool)
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.shape != (m,):
            raise ValueError(
                f"'{name}' mask has {arr.size} values but there are {m} sites"
            )
        return arr.copy()
    if arr.size == 0:
        return np.zeros(m, dtype=bool)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"'{name}' should be a boolean mask or site positions, got {arr.dtype}"
        )
    if arr.min() < 0 or arr.max() >= m:
        raise ValueError(f"'{name}' refers to site positions outside 0..{m - 1}")
    mask = np.zeros(m, dtype=bool)
    mask[arr.ravel()] = True
    return mask


def _site_array(value: Any, m: int, name: str, default: float) -> np.ndarray:
    if value is None:
        return np.full(m, float(default))
    arr = (
        np.broadcast_to(np.asarray(value, dtype=float), (m,)).copy()
        if np.ndim(value) == 0
        else np.asarray(value, dtype=float).ravel()
    )
    if arr.shape != (m,):
        raise ValueError(f"'{name}' has {arr.size} values but there are {m} sites")
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(f"'{name}' must be non-negative numbers without NaN")
    return arr


@dataclass
class SiteRules:
    """Which sites exist, must stay open, may not open, and what changes cost.

    Build it with :meth:`build` from masks or site positions, and pass it to a
    model as ``sites``; ``None`` there means no rule (every site a free
    candidate, no cost, no capacity).

    Attributes
    ----------
    existing : ndarray of bool
        Sites of today's network (others are candidate sites).
    locked : ndarray of bool
        Sites that must be open.
    forbidden : ndarray of bool
        Sites that must stay closed.
    opening_cost : ndarray
        Cost of opening each candidate site (ignored for existing sites).
    closing_cost : ndarray
        Cost of closing each existing site (ignored for candidates).
    max_new : int or None
        Most candidate sites that may open.
    budget : float or None
        Ceiling on opening + closing + capacity-module costs.
    capacities : ndarray or None
        Demand a site can serve (e.g. requests/week); None = uncapacitated.
    module_size, module_cost, max_modules : ndarray or None
        Optional capacity modules: each adds ``module_size`` capacity for
        ``module_cost``, at most ``max_modules`` per open site.
    """

    existing: np.ndarray
    locked: np.ndarray
    forbidden: np.ndarray
    opening_cost: np.ndarray
    closing_cost: np.ndarray
    max_new: int | None = None
    budget: float | None = None
    capacities: np.ndarray | None = None
    module_size: np.ndarray | None = None
    module_cost: np.ndarray | None = None
    max_modules: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        m: int,
        existing: Any = None,
        locked: Any = None,
        forbidden: Any = None,
        opening_cost: Any = None,
        closing_cost: Any = None,
        max_new: int | None = None,
        budget: float | None = None,
        capacities: Any = None,
        module_size: Any = None,
        module_cost: Any = None,
        max_modules: Any = None,
    ) -> SiteRules:
        """Validate raw arguments and return resolved :class:`SiteRules`.

        Parameters
        ----------
        m : int
            Number of sites (columns of the cost matrix).
        existing, locked, forbidden : bool mask or site positions, optional
            Today's centers; sites that must be open; sites that may not open.
            Existing sites that are neither locked nor forbidden are closable.
        opening_cost, closing_cost : number or array-like, optional
            Cost of opening a candidate / closing an existing center.
        max_new : int, optional
            Most candidate sites that may open.
        budget : float, optional
            Ceiling on opening + closing + module costs.
        capacities : number or array-like, optional
            Demand each site can serve; makes a model capacitated.
        module_size, module_cost, max_modules : number or array-like, optional
            Capacity modules that may be added to open sites at a cost.

        Examples
        --------
        >>> rules = SiteRules.build(4, existing=[0, 1], locked=[0], max_new=1)
        >>> rules.existing.tolist(), rules.locked.tolist(), rules.max_new
        ([True, True, False, False], [True, False, False, False], 1)
        """
        locked_m = site_mask(locked, m, "locked")
        forbidden_m = site_mask(forbidden, m, "forbidden")
        both = np.flatnonzero(locked_m & forbidden_m)
        if both.size:
            raise ValueError(f"sites {both.tolist()} are both locked and forbidden")
        if max_new is not None and (int(max_new) != max_new or max_new < 0):
            raise ValueError(
                f"'max_new' should be a non-negative integer, got {max_new!r}"
            )
        if budget is not None and (not np.isfinite(budget) or budget < 0):
            raise ValueError(
                f"'budget' should be a non-negative number, got {budget!r}"
            )
        caps = (
            None if capacities is None else _site_array(capacities, m, "capacities", 0)
        )
        if module_size is not None and caps is None:
            raise ValueError("capacity modules need 'capacities'")
        msize = (
            None
            if module_size is None
            else _site_array(module_size, m, "module_size", 0)
        )
        mcost = None
        mmax = None
        if msize is not None:
            mcost = _site_array(module_cost, m, "module_cost", 0)
            mmax = _site_array(max_modules, m, "max_modules", 1)
        return cls(
            existing=site_mask(existing, m, "existing"),
            locked=locked_m,
            forbidden=forbidden_m,
            opening_cost=_site_array(opening_cost, m, "opening_cost", 0),
            closing_cost=_site_array(closing_cost, m, "closing_cost", 0),
            max_new=None if max_new is None else int(max_new),
            budget=None if budget is None else float(budget),
            capacities=caps,
            module_size=msize,
            module_cost=mcost,
            max_modules=mmax,
        )

    @property
    def m(self) -> int:
        """Number of sites."""
        return int(self.existing.size)

    @property
    def allowed(self) -> np.ndarray:
        """Sites that may be open."""
        return ~self.forbidden

    def max_capacity(self) -> np.ndarray | None:
        """Capacity of each site with every module added (None if uncapacitated)."""
        if self.capacities is None:
            return None
        extra = 0.0 if self.module_size is None else self.module_size * self.max_modules
        return self.capacities + extra

    def change_cost(
        self, open_mask: np.ndarray, modules: np.ndarray | None = None
    ) -> float:
        """Opening + closing + module cost of a plan."""
        new = open_mask & ~self.existing
        closed = ~open_mask & self.existing
        cost = self.opening_cost[new].sum() + self.closing_cost[closed].sum()
        if modules is not None and self.module_cost is not None:
            cost += float(self.module_cost @ modules)
        return float(cost)


@dataclass
class EquityRule:
    """Minimum share of each group's demand within ``radius`` of an open site.

    Attributes
    ----------
    groups : ndarray
        Group label (department or region) of each demand point.
    radius : float
        Coverage distance, in the cost matrix's unit.
    min_share : dict
        Minimum covered share (0..1) per group label.
    """

    groups: np.ndarray
    radius: float
    min_share: dict[Any, float]

    @classmethod
    def build(
        cls,
        groups: Any,
        n: int,
        radius: float | None,
        min_share: float | Mapping[Any, float],
    ) -> EquityRule:
        """Validate the arguments; a single share applies to every group.

        Parameters
        ----------
        groups : array-like, shape (n,), optional
            Department/region label of each demand point (None: one group).
        n : int
            Number of demand points (rows of the cost matrix).
        radius : float
            Coverage distance, in the cost matrix's unit.
        min_share : float or mapping
            Minimum covered share (0..1), one for every group or per group label.

        Examples
        --------
        >>> rule = EquityRule.build(["a", "a", "b"], 3, radius=20.0, min_share=0.8)
        >>> rule.min_share
        {'a': 0.8, 'b': 0.8}
        """
        if groups is None:
            groups_arr = np.zeros(n, dtype=object)
            groups_arr[:] = "all"
        else:
            groups_arr = np.asarray(groups, dtype=object).ravel()
            if groups_arr.shape != (n,):
                raise ValueError(
                    f"'groups' has {groups_arr.size} labels but there are {n} demand points"
                )
        if radius is None or not np.isfinite(radius) or radius < 0:
            raise ValueError(
                f"a minimum coverage share needs a non-negative 'radius', got {radius!r}"
            )
        labels = list(dict.fromkeys(groups_arr.tolist()))
        if isinstance(min_share, Mapping):
            unknown = set(min_share) - set(labels)
            if unknown:
                raise ValueError(
                    f"'min_share' names unknown groups {sorted(map(str, unknown))}"
                )
            shares = {g: float(min_share[g]) for g in min_share}
        else:
            shares = dict.fromkeys(labels, float(min_share))
        for g, s in shares.items():
            if not 0 <= s <= 1:
                raise ValueError(
                    f"minimum coverage share for {g!r} should be in [0, 1], got {s}"
                )
        return cls(groups=groups_arr, radius=float(radius), min_share=shares)


@dataclass(frozen=True)
class Labels:
    """Names and units that explanations quote (never used by the solve).

    Attributes
    ----------
    demand_names, site_names : sequence, optional
        One name per demand point / site, e.g. "commune Y is 84.0 km from...".
    unit : str
        Unit of the cost matrix.
    demand_unit : str
        Unit of the weights and capacities.

    Examples
    --------
    >>> Labels(site_names=["Nord", "Sud"], unit="min").unit
    'min'
    """

    demand_names: Sequence[Any] | None = None
    site_names: Sequence[Any] | None = None
    unit: str = "km"
    demand_unit: str = "requests/week"

    def check(self, n: int, m: int) -> None:
        """Raise ValueError when a list of names does not match the model's size."""
        for label, names, size in (
            ("demand_names", self.demand_names, n),
            ("site_names", self.site_names, m),
        ):
            if names is not None and len(names) != size:
                raise ValueError(f"'{label}' has {len(names)} entries, expected {size}")
