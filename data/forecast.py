"""Weekly demand forecasts, honestly validated.

Series of weekly requests per document type are read from the store at national,
region, department (any administrative level) or center level and forecast up to
26 weeks ahead by three models:

``seasonal_naive``
    the value 52 weeks before the target week;
``moving_average``
    the mean of the last 8 weeks, flat;
``gradient_boosting``
    one scikit-learn ``HistGradientBoostingRegressor`` per level (a *global* model
    fitted on every series of the level at once), predicting the target week's value
    relative to the series' recent level from the horizon, the calendar (week of the
    year), the same weeks one and two years earlier, the year-on-year growth and the
    last weeks' values (lags and rolling means).

**Rolling-origin backtest.** Every week of the last ``n_eval`` (12) weeks is
forecast from every origin 1 to ``horizon`` weeks before it. At each origin the
models only see the weeks before it: the features are computed from the past, the
learned model is (re)fitted every ``refit_every`` weeks on examples whose target
lies before its fitting origin, and the *selected* model of a series at an origin is
the one with the lowest mean absolute error over the backtest forecasts already
realised at that origin (nested selection, so the reported accuracy of the
selection is not flattered by hindsight).

**Model used for the forecast** of a series at horizon ``h``: the one with the
smallest WAPE over the backtest forecasts made 1 to ``h`` weeks before each of
the last ``n_eval`` weeks (``n_eval x h`` forecasts; :func:`selection_scores`
gives these WAPEs, so a screen can show the score that chose).

**Intervals** are split-conformal: for a series, its selected model and a step
``h``, the relative errors ``(actual - forecast) / forecast`` of the backtest at
steps ``h-2 .. h+2`` give the half-width as their ``ceil((m + 1) level) / m``
empirical quantile in absolute value; the interval is ``forecast x (1 +/- q)``
clipped at zero.

Examples
--------
>>> import numpy as np
>>> y = np.arange(104, dtype=float)
>>> seasonal_naive(y[None, :], 3)[0].tolist()
[52.0, 53.0, 54.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

SEASON = 52
WEEKS_PER_YEAR = 365.25 / 7.0
MAX_HORIZON = 26
MIN_HORIZON = 1
N_EVAL = 12
MA_WINDOW = 8
MODELS = ("seasonal_naive", "moving_average", "gradient_boosting")
BASELINE = "seasonal_naive"
NATIONAL = "national"
CENTER = "center"
INTERVAL_LEVELS = (0.8, 0.95)
# Weeks of history the learned model's features need at an origin: a 13-week
# level now and the same 13 weeks one year earlier.
_FEATURE_HISTORY = SEASON + 13
MIN_WEEKS = 2 * SEASON

ProgressFn = Callable[[int, int], None]


class ForecastError(ValueError):
    """Forecasting cannot run on these inputs; the message says why, in English
    (logs, command line).

    ``code`` names the reason and ``params`` its values, so that a screen words
    it in its own language; ``"internal"`` is a call this module refuses (a
    programming error, not the data's).

    Examples
    --------
    >>> e = ForecastError("no history", "no_requests")
    >>> e.to_dict()
    {'code': 'no_requests', 'params': {}, 'message': 'no history'}
    >>> ForecastError.from_dict(e.to_dict()).code
    'no_requests'
    """

    def __init__(self, message: str, code: str = "internal", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params

    def to_dict(self) -> dict[str, Any]:
        """Code, parameters and message as JSON-able values (kept between
        processes)."""
        return {"code": self.code, "params": dict(self.params), "message": str(self)}

    @classmethod
    def from_dict(cls, value: Any) -> ForecastError:
        """The error :meth:`to_dict` gave; a bare message (older results) is
        ``"internal"``."""
        if isinstance(value, dict):
            params = value.get("params")
            return cls(str(value.get("message", "")), str(value.get("code", "internal")),
                       **(params if isinstance(params, dict) else {}))  # fmt: skip
        return cls(str(value))


# ----------------------------------------------------------------- series from store


def level_codes(store, dataset_id: int) -> list[str]:
    """Levels a forecast can be made at: national, each admin level, center.

    Communes are left out (too many, too noisy), and so is a top level holding a
    single unit (a country level): its series is the national one.

    Examples
    --------
    >>> from data.store import Store
    >>> s = Store("sqlite://"); s.upgrade()
    >>> level_codes(s, 1)
    ['national', 'center']
    """
    levels = store.levels(dataset_id)
    admin = levels["code"].tolist()[:-1]
    counts = store.read_frame(
        "SELECT level, COUNT(*) AS n FROM admin_units WHERE dataset_id = :d "
        "GROUP BY level",
        {"d": int(dataset_id)},
    ).set_index("level")["n"]
    if admin and counts.get(int(levels["level"].iloc[0]), 0) == 1:
        admin = admin[1:]
    return [NATIONAL, *admin, CENTER]


def load_series(
    store, dataset_id: int, level: str, doc_types: list[str] | None = None
) -> pd.DataFrame:
    """Weekly requests per series and document type at one level.

    Parameters
    ----------
    store : data.store.Store
    dataset_id : int
    level : str
        ``'national'``, ``'center'`` or the code of an administrative level above
        the communes (``'region'``, ``'department'`` in the demo).
    doc_types : list of str, optional
        Document types to keep (all by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``week`` (Timestamp), ``series`` (unit or center code, or
        ``'national'``), ``name``, ``doc_type``, ``requests`` (float).

    Examples
    --------
    >>> from data.store import Store
    >>> s = Store("sqlite://"); s.upgrade()
    >>> load_series(s, 1, "regions")
    Traceback (most recent call last):
    ...
    data.forecast.ForecastError: unknown level 'regions': expected one of national, center
    """
    allowed = level_codes(store, dataset_id)
    if level not in allowed:
        raise ForecastError(
            f"unknown level {level!r}: expected one of {', '.join(allowed)}",
            "unknown_level", level=str(level),
        )  # fmt: skip
    params: dict = {"d": int(dataset_id)}
    if level == NATIONAL:
        sql = (
            "SELECT o.week AS week, 'national' AS series, 'national' AS name, "
            "o.doc_type AS doc_type, SUM(o.requests) AS requests FROM operations o "
            "WHERE o.dataset_id = :d GROUP BY o.week, o.doc_type"
        )
    elif level == CENTER:
        sql = (
            "SELECT o.week AS week, c.code AS series, c.name AS name, "
            "o.doc_type AS doc_type, SUM(o.requests) AS requests FROM operations o "
            "JOIN service_centers c ON c.id = o.center_id WHERE o.dataset_id = :d "
            "GROUP BY o.week, c.code, c.name, o.doc_type"
        )
    else:
        levels = store.levels(dataset_id)
        params["level"] = int(levels.loc[levels["code"] == level, "level"].iloc[0])
        sql = (
            "SELECT o.week AS week, a.code AS series, a.name AS name, "
            "o.doc_type AS doc_type, SUM(o.requests) AS requests FROM operations o "
            "JOIN unit_closure k ON k.descendant_id = o.commune_id "
            "JOIN admin_units a ON a.id = k.ancestor_id "
            "WHERE o.dataset_id = :d AND a.level = :level "
            "GROUP BY o.week, a.code, a.name, o.doc_type"
        )
    frame = store.read_frame(sql, params)
    if doc_types is not None:
        unknown = sorted(set(doc_types) - set(frame["doc_type"]))
        if unknown:
            raise ForecastError(f"unknown document types: {', '.join(unknown)}",
                                "unknown_doc_types", types=", ".join(unknown))  # fmt: skip
        frame = frame[frame["doc_type"].isin(doc_types)]
    frame["week"] = pd.to_datetime(frame["week"])
    frame["requests"] = frame["requests"].astype(float)
    return frame.sort_values(["series", "doc_type", "week"], ignore_index=True)


@dataclass(frozen=True)
class Panel:
    """Aligned weekly series: ``values[i]`` is the series described by ``keys.iloc[i]``.

    Weeks missing from a series (no operations recorded) count as zero requests.
    """

    weeks: pd.DatetimeIndex
    keys: pd.DataFrame
    values: np.ndarray


def to_panel(frame: pd.DataFrame) -> Panel:
    """Pivot :func:`load_series` output into a (series x weeks) array.

    Examples
    --------
    >>> f = pd.DataFrame({"week": pd.to_datetime(["2024-01-01", "2024-01-15"]),
    ...     "series": "A", "name": "a", "doc_type": "CNI", "requests": [3.0, 5.0]})
    >>> to_panel(f).values.tolist()
    [[3.0, 0.0, 5.0]]
    """
    if frame.empty:
        raise ForecastError("no weekly requests recorded for this selection",
                            "no_requests")  # fmt: skip
    weeks = pd.date_range(frame["week"].min(), frame["week"].max(), freq="7D")
    wide = frame.pivot_table(
        index=["series", "name", "doc_type"],
        columns="week",
        values="requests",
        aggfunc="sum",
    ).reindex(columns=weeks)
    wide = wide.fillna(0.0)
    keys = wide.index.to_frame(index=False)
    return Panel(weeks, keys, wide.to_numpy(dtype=float))


# ------------------------------------------------------------------------ the models


def _check_panel(Y: np.ndarray, horizon: int, min_weeks: int) -> np.ndarray:
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 2:
        raise ForecastError(f"'Y' should be 2-D (series x weeks), got {Y.ndim}-D")
    if not MIN_HORIZON <= int(horizon) <= SEASON:
        raise ForecastError(f"horizon should be in 1..{SEASON} weeks, got {horizon}")
    if Y.shape[1] < min_weeks:
        raise ForecastError(
            f"needs at least {min_weeks} weeks of history, got {Y.shape[1]}",
            "short_history", need=int(min_weeks), got=int(Y.shape[1]),
        )  # fmt: skip
    if not np.isfinite(Y).all():
        raise ForecastError("series contain missing or infinite values",
                            "missing_values")  # fmt: skip
    return Y


def seasonal_naive(Y: np.ndarray, horizon: int, season: int = SEASON) -> np.ndarray:
    """Forecast each target week by the value ``season`` weeks earlier.

    Parameters
    ----------
    Y : ndarray, shape (n_series, n_weeks)
        History; the forecast starts after the last column.
    horizon : int
        Steps ahead, at most ``season``.

    Returns
    -------
    ndarray, shape (n_series, horizon)

    Examples
    --------
    >>> seasonal_naive(np.array([[1.0, 2.0, 3.0, 4.0]]), 2, season=2).tolist()
    [[3.0, 4.0]]
    """
    Y = _check_panel(Y, horizon, season)
    n = Y.shape[1]
    if horizon > season:
        raise ForecastError(f"horizon should be at most {season}, got {horizon}")
    return Y[:, n - season : n - season + horizon].copy()


def moving_average(Y: np.ndarray, horizon: int, window: int = MA_WINDOW) -> np.ndarray:
    """Forecast every step by the mean of the last ``window`` weeks.

    Examples
    --------
    >>> moving_average(np.array([[1.0, 2.0, 3.0, 5.0]]), 2, window=2).tolist()
    [[4.0, 4.0]]
    """
    Y = _check_panel(Y, horizon, window)
    mean = Y[:, -window:].mean(axis=1)
    return np.repeat(mean[:, None], horizon, axis=1)


def _window_mean(C: np.ndarray, rows: np.ndarray, a: np.ndarray, b: np.ndarray):
    """Mean of ``Y[rows, a:b]`` from the cumulative sums ``C`` (C[:, k] = Y[:, :k])."""
    return (C[rows, b] - C[rows, a]) / (b - a)


def _features(
    C: np.ndarray,
    Y: np.ndarray,
    rows: np.ndarray,
    origin: np.ndarray,
    step: np.ndarray,
    week0: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Features of examples (series ``rows``, ``origin`` weeks seen, ``step`` ahead).

    Only ``Y[:, :origin]`` is read. Returns the features and each example's scale
    (the recent level) by which the target is divided.
    """
    target = origin + step - 1  # column index of the forecast week
    level = _window_mean(C, rows, origin - 13, origin)
    level_ly = _window_mean(C, rows, origin - 13 - SEASON, origin - SEASON)
    scale = level + 1.0
    same_ly = Y[rows, target - SEASON]
    around_ly = _window_mean(C, rows, target - SEASON - 2, target - SEASON + 3)
    # the year before stands in where two years of history are not available
    # (an all-missing column would break the model's binning)
    back = target - 2 * SEASON
    two_years = np.where(back >= 0, Y[rows, np.maximum(back, 0)], same_ly)
    phase = 2.0 * np.pi * (week0 + target) / WEEKS_PER_YEAR
    X = np.column_stack(
        [
            step,
            np.sin(phase),
            np.cos(phase),
            same_ly / scale,
            around_ly / scale,
            around_ly / (level_ly + 1.0),
            two_years / scale,
            (level + 1.0) / (level_ly + 1.0),
            Y[rows, origin - 1] / scale,
            _window_mean(C, rows, origin - 4, origin) / scale,
        ]
    )
    return X, scale


@dataclass
class GradientBoostingForecaster:
    """Global gradient-boosting model of a panel of weekly series.

    One ``HistGradientBoostingRegressor`` predicts the value ``h`` weeks ahead
    divided by the series' recent level (13-week mean), from the step ``h``, the
    target's week of the year (sine, cosine), the same week and the 5 weeks around
    it one year earlier, the same week two years earlier (one year when there is
    no such week), the year-on-year growth
    and the last week and 4-week mean. Every feature of an example at origin ``t``
    is computed from weeks before ``t`` only.

    Parameters
    ----------
    horizon : int
        Longest step predicted (and trained on).
    max_rows : int
        Training examples are subsampled (seeded) to at most this many.
    random_state : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(160)
    >>> Y = 100 + 20 * np.sin(2 * np.pi * t / 52.18) + rng.normal(0, 2, (5, 160))
    >>> model = GradientBoostingForecaster(horizon=4).fit(Y[:, :150])
    >>> model.predict(Y[:, :150]).shape
    (5, 4)
    """

    horizon: int = MAX_HORIZON
    max_rows: int = 20_000
    random_state: int = 0
    week0: float = 0.0
    model: HistGradientBoostingRegressor | None = field(default=None, repr=False)

    def fit(self, Y: np.ndarray, week0: float | None = None):
        """Fit on every (series, origin, step) whose target week is in ``Y``."""
        Y = _check_panel(Y, self.horizon, _FEATURE_HISTORY + 1)
        if week0 is not None:
            self.week0 = float(week0)
        n_series, n = Y.shape
        C = np.concatenate([np.zeros((n_series, 1)), np.cumsum(Y, axis=1)], axis=1)
        rows, origin, step = np.meshgrid(
            np.arange(n_series),
            np.arange(_FEATURE_HISTORY, n),
            np.arange(1, self.horizon + 1),
            indexing="ij",
        )
        keep = (origin + step) <= n
        rows, origin, step = rows[keep], origin[keep], step[keep]
        if rows.size > self.max_rows:
            rng = np.random.default_rng(self.random_state)
            pick = np.sort(rng.choice(rows.size, self.max_rows, replace=False))
            rows, origin, step = rows[pick], origin[pick], step[pick]
        X, scale = _features(C, Y, rows, origin, step, self.week0)
        target = Y[rows, origin + step - 1] / scale
        model = HistGradientBoostingRegressor(
            max_iter=150,
            learning_rate=0.06,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=self.random_state,
        )
        # One thread: on small data OpenMP start-up and contention with the web
        # server's other work cost far more than they save (13 s instead of 0.15 s
        # on a busy 2-core machine).
        with threadpool_limits(1):
            self.model = model.fit(X, target)
        return self

    def predict(self, Y: np.ndarray, horizon: int | None = None) -> np.ndarray:
        """Forecast steps ``1..horizon`` after the last column of ``Y``."""
        if self.model is None:
            raise ForecastError("the model is not fitted: call fit() first")
        horizon = self.horizon if horizon is None else int(horizon)
        if horizon > self.horizon:
            raise ForecastError(
                f"horizon {horizon} is longer than the fitted one ({self.horizon})"
            )
        Y = _check_panel(Y, horizon, _FEATURE_HISTORY)
        n_series, n = Y.shape
        C = np.concatenate([np.zeros((n_series, 1)), np.cumsum(Y, axis=1)], axis=1)
        rows = np.repeat(np.arange(n_series), horizon)
        step = np.tile(np.arange(1, horizon + 1), n_series)
        origin = np.full(rows.size, n)
        X, scale = _features(C, Y, rows, origin, step, self.week0)
        with threadpool_limits(1):
            pred = np.maximum(self.model.predict(X), 0.0) * scale
        return pred.reshape(n_series, horizon)


def _week0(weeks: pd.DatetimeIndex | None) -> float:
    """Position in the year of the first week, in weeks (calendar feature origin)."""
    if weeks is None or len(weeks) == 0:
        return 0.0
    return (weeks[0].day_of_year - 1) / 7.0


# ------------------------------------------------------------------------- backtest


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest of every model on a panel.

    Attributes
    ----------
    origins : ndarray of int
        Weeks seen at each origin (the forecast of step ``h`` targets column
        ``origin + h - 1``).
    actual : ndarray, shape (n_series, n_origins, horizon)
        Observed values (NaN beyond the data).
    forecasts : ndarray, shape (n_models, n_series, n_origins, horizon)
    models : tuple of str
    n_weeks, n_eval : int
        Length of the panel and of the evaluation window (its last weeks).
    """

    origins: np.ndarray
    actual: np.ndarray
    forecasts: np.ndarray
    models: tuple[str, ...]
    n_weeks: int
    n_eval: int

    @property
    def horizon(self) -> int:
        return self.actual.shape[2]

    def selection(self, horizon: int | None = None) -> np.ndarray:
        """Model chosen per (series, origin) from errors realised before that origin.

        The score of a model is its mean absolute error over the backtest forecasts
        at steps ``<= horizon`` whose target week was already observed at the
        origin; ties and origins with nothing realised go to the seasonal naive.
        Returns indices into :attr:`models`, shape (n_series, n_origins).
        """
        horizon = self.horizon if horizon is None else int(horizon)
        err = np.abs(self.forecasts - self.actual[None])[..., :horizon]
        steps = np.arange(1, horizon + 1)
        # realised[i, j, h]: origin j's step h was observed at origin i
        realised = (
            self.origins[None, :, None] + steps[None, None, :]
            <= self.origins[:, None, None]
        )
        err = np.nan_to_num(err, nan=0.0)
        sums = np.einsum("msjh,ijh->msi", err, realised.astype(float))
        counts = realised.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            score = sums / counts[None, None, :]
        base = self.models.index(BASELINE) if BASELINE in self.models else 0
        score = np.where(counts[None, None, :] > 0, score, np.inf)
        score[base] = np.where(np.isinf(score[base]), 0.0, score[base])
        return np.argmin(score, axis=0)

    def selection_mask(self, horizon: int | None = None) -> np.ndarray:
        """Backtest forecasts the final choice is scored on, shape (origins, steps).

        ``True`` where the step is at most ``horizon`` and the target week lies in
        the evaluation window (the last ``n_eval`` weeks): each step ``1..horizon``
        counts ``n_eval`` forecasts.
        """
        horizon = self.horizon if horizon is None else int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise ForecastError(f"horizon should be in 1..{self.horizon}, got {horizon}")
        steps = np.arange(1, self.horizon + 1)
        target = self.origins[:, None] + steps[None, :] - 1
        window = (target >= self.n_weeks - self.n_eval) & (target < self.n_weeks)
        return window & (steps[None, :] <= horizon)

    def selection_errors(self, horizon: int | None = None) -> np.ndarray:
        """Sum of absolute errors per (model, series) on :meth:`selection_mask`."""
        mask = self.selection_mask(horizon)
        err = np.abs(self.forecasts - self.actual[None])[:, :, mask]
        return np.nansum(err, axis=2)

    def selection_wape(self, horizon: int | None = None) -> np.ndarray:
        """WAPE in % per (model, series) on :meth:`selection_mask`, the score the
        final choice minimises (NaN for a series with no requests there)."""
        mask = self.selection_mask(horizon)
        total = np.nansum(self.actual[:, mask], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            wape = self.selection_errors(horizon) / total[None, :] * 100
        return np.where(total[None, :] > 0, wape, np.nan)

    def final_selection(self, horizon: int | None = None) -> np.ndarray:
        """Model per series for the forecast: the smallest WAPE of the backtest
        forecasts at steps ``1..horizon`` whose target is one of the last
        ``n_eval`` weeks (:meth:`selection_wape`); ties go to the first model.

        The sum of absolute errors is compared, which orders the models as their
        WAPE does (same series, same weeks) and stays defined without requests.
        """
        return np.argmin(self.selection_errors(horizon), axis=0)

    def selected_forecasts(self, horizon: int | None = None) -> np.ndarray:
        """Backtest forecasts of the nested selection, shape (series, origins, steps)."""
        choice = self.selection(horizon)
        return np.take_along_axis(self.forecasts, choice[None, :, :, None], axis=0)[0]

    def eval_mask(self, step: int) -> np.ndarray:
        """Origins whose forecast at ``step`` targets the evaluation window."""
        target = self.origins + step - 1
        return (target >= self.n_weeks - self.n_eval) & (target < self.n_weeks)


def backtest(
    Y: np.ndarray,
    weeks: pd.DatetimeIndex | None = None,
    *,
    horizon: int = MAX_HORIZON,
    n_eval: int = N_EVAL,
    refit_every: int = 4,
    max_rows: int = 20_000,
    progress: ProgressFn | None = None,
) -> Backtest:
    """Rolling-origin backtest of the three models on the last ``n_eval`` weeks.

    Parameters
    ----------
    Y : ndarray, shape (n_series, n_weeks)
    weeks : DatetimeIndex, optional
        Dates of the columns (for the week-of-year feature).
    horizon : int
        Longest step; origins run from ``n_weeks - n_eval - horizon + 1`` to
        ``n_weeks - 1`` so each step is evaluated on ``n_eval`` target weeks.
    refit_every : int
        The learned model is refitted every this many origins, each time only on
        weeks before the fitting origin.
    progress : callable, optional
        Called as ``progress(done, total)`` after each origin.

    Returns
    -------
    Backtest

    Examples
    --------
    >>> t = np.arange(130)
    >>> Y = 50 + 10 * np.sin(2 * np.pi * t / 52.18)[None, :].repeat(3, axis=0)
    >>> bt = backtest(Y, horizon=4, n_eval=4)
    >>> bt.forecasts.shape
    (3, 3, 7, 4)
    """
    Y = _check_panel(Y, horizon, 0)
    n_series, n = Y.shape
    if n_eval < 1:
        raise ForecastError(f"n_eval should be at least 1, got {n_eval}")
    first = n - n_eval - horizon + 1
    if first < _FEATURE_HISTORY + 1 + horizon:
        need = _FEATURE_HISTORY + n_eval + 2 * horizon
        raise ForecastError(
            f"needs at least {need} weeks of history for a {horizon}-week backtest "
            f"on the last {n_eval} weeks, got {n}",
            "short_history", need=int(need), got=int(n),
        )  # fmt: skip
    origins = np.arange(first, n)
    week0 = _week0(weeks)
    actual = np.full((n_series, origins.size, horizon), np.nan)
    forecasts = np.full((len(MODELS), n_series, origins.size, horizon), np.nan)
    model = None
    for i, origin in enumerate(origins):
        past = Y[:, :origin]
        if model is None or i % refit_every == 0:
            model = GradientBoostingForecaster(horizon, max_rows=max_rows)
            model.fit(past, week0)
        forecasts[0, :, i] = seasonal_naive(past, horizon)
        forecasts[1, :, i] = moving_average(past, horizon)
        forecasts[2, :, i] = model.predict(past)
        seen = min(horizon, n - origin)
        actual[:, i, :seen] = Y[:, origin : origin + seen]
        if progress is not None:
            progress(i + 1, origins.size)
    return Backtest(origins, actual, forecasts, MODELS, n, n_eval)


def accuracy(
    bt: Backtest, step: int, series: np.ndarray | list[int] | None = None
) -> pd.DataFrame:
    """MAPE, WAPE and skill against seasonal naive at one step, per model.

    Rows are the models and ``'selected'`` (the nested per-series selection);
    columns ``mape`` and ``wape`` (in %), ``skill`` (``1 - WAPE / WAPE of the
    seasonal naive``, in %, positive when better) and ``n`` (forecasts scored).
    MAPE skips weeks with zero requests.

    Examples
    --------
    >>> t = np.arange(130)
    >>> Y = 50 + 10 * np.sin(2 * np.pi * t / 52.18)[None, :].repeat(3, axis=0)
    >>> acc = accuracy(backtest(Y, horizon=4, n_eval=4), 4)
    >>> float(acc.loc["seasonal_naive", "skill"])
    0.0
    """
    if not 1 <= int(step) <= bt.horizon:
        raise ForecastError(f"step should be in 1..{bt.horizon}, got {step}")
    mask = bt.eval_mask(step)
    rows = slice(None) if series is None else np.asarray(series, dtype=int)
    actual = bt.actual[rows][:, mask, step - 1]
    preds = {
        name: bt.forecasts[m][rows][:, mask, step - 1]
        for m, name in enumerate(bt.models)
    }
    preds["selected"] = bt.selected_forecasts(step)[rows][:, mask, step - 1]
    out = {}
    total = np.nansum(actual)
    for name, pred in preds.items():
        err = np.abs(pred - actual)
        nonzero = actual > 0
        mape = (
            float(np.mean(err[nonzero] / actual[nonzero]) * 100)
            if nonzero.any()
            else np.nan
        )
        wape = float(np.sum(err) / total * 100) if total > 0 else np.nan
        out[name] = {"mape": mape, "wape": wape, "n": int(actual.size)}
    frame = pd.DataFrame(out).T
    base = frame.loc[BASELINE, "wape"]
    frame["skill"] = (1.0 - frame["wape"] / base) * 100 if base > 0 else np.nan
    frame["n"] = frame["n"].astype(int)
    return frame[["mape", "wape", "skill", "n"]].astype(
        {"mape": float, "wape": float, "skill": float}
    )


def selection_scores(bt: Backtest, horizon: int, series: int) -> pd.DataFrame:
    """The score that chose a series' model at ``horizon``, per model.

    Rows are the models; columns ``wape`` (in %, over the backtest forecasts at
    steps ``1..horizon`` whose target is one of the last ``n_eval`` weeks),
    ``n`` (those forecasts) and ``chosen`` (the model of
    :meth:`Backtest.final_selection`, the smallest ``wape``).

    Examples
    --------
    >>> t = np.arange(130)
    >>> Y = 50 + 10 * np.sin(2 * np.pi * t / 52.18)[None, :].repeat(2, axis=0)
    >>> scores = selection_scores(backtest(Y, horizon=4, n_eval=4), 4, 0)
    >>> scores["n"].tolist(), int(scores["chosen"].sum())
    ([16, 16, 16], 1)
    """
    row = int(series)
    if not 0 <= row < bt.actual.shape[0]:
        raise ForecastError(f"series should be in 0..{bt.actual.shape[0] - 1}, got {row}")
    wape = bt.selection_wape(horizon)[:, row]
    chosen = int(bt.final_selection(horizon)[row])
    frame = pd.DataFrame(
        {
            "wape": wape.astype(float),
            "n": int(bt.selection_mask(horizon).sum()),
            "chosen": np.arange(len(bt.models)) == chosen,
        },
        index=pd.Index(bt.models),
    )
    return frame


def conformal_halfwidth(relative_errors: np.ndarray, level: float) -> float:
    """Split-conformal quantile of absolute relative errors at ``level``.

    The ``ceil((m + 1) level)``-th smallest of the ``m`` finite values (the
    largest when that rank exceeds ``m``).

    Examples
    --------
    >>> conformal_halfwidth(np.array([0.1, -0.3, 0.2, 0.05]), 0.5)
    0.2
    """
    if not 0 < level < 1:
        raise ForecastError(f"interval level should be in (0, 1), got {level}")
    values = np.sort(np.abs(relative_errors[np.isfinite(relative_errors)]))
    if values.size == 0:
        return float("nan")
    rank = math.ceil((values.size + 1) * level)
    return float(values[min(rank, values.size) - 1])


def interval_halfwidths(
    bt: Backtest, choice: np.ndarray, horizon: int, levels=INTERVAL_LEVELS
) -> np.ndarray:
    """Relative half-widths per (series, step, level) from backtest residuals.

    For series ``s`` and step ``h``: the relative errors of model ``choice[s]``
    at steps ``h-2..h+2`` over every origin where the target was observed.
    """
    n_series = bt.actual.shape[0]
    out = np.full((n_series, horizon, len(levels)), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = (bt.actual[None] - bt.forecasts) / bt.forecasts
    rel[~np.isfinite(rel)] = np.nan
    for s in range(n_series):
        mine = rel[choice[s], s]
        for h in range(1, horizon + 1):
            lo, hi = max(1, h - 2), min(bt.horizon, h + 2)
            pooled = mine[:, lo - 1 : hi].ravel()
            for k, level in enumerate(levels):
                out[s, h - 1, k] = conformal_halfwidth(pooled, level)
    return out


# ------------------------------------------------------------------ level forecasts


@dataclass(frozen=True)
class LevelForecast:
    """Backtest and forecasts of every series of a level, up to ``MAX_HORIZON``.

    Attributes
    ----------
    level : str
    panel : Panel
        The history.
    backtest : Backtest
    forecasts : ndarray, shape (n_models, n_series, horizon)
        Each model's forecast from the end of the history.
    """

    level: str
    panel: Panel
    backtest: Backtest
    forecasts: np.ndarray

    @property
    def horizon(self) -> int:
        return self.forecasts.shape[2]

    @property
    def future_weeks(self) -> pd.DatetimeIndex:
        last = self.panel.weeks[-1]
        return pd.date_range(
            last + pd.Timedelta(weeks=1), periods=self.horizon, freq="7D"
        )

    def chosen(self, horizon: int) -> np.ndarray:
        """Model index per series: smallest backtest WAPE at steps ``<= horizon``
        on the last ``n_eval`` weeks (see :meth:`Backtest.final_selection`)."""
        return self.backtest.final_selection(horizon)

    def selection_scores(self, horizon: int, series: int) -> pd.DataFrame:
        """What chose the model of one series: see :func:`selection_scores`."""
        return selection_scores(self.backtest, horizon, series)

    def table(self, horizon: int, levels=INTERVAL_LEVELS) -> pd.DataFrame:
        """Forecast of the chosen model per series and week, with intervals.

        Columns: ``series, name, doc_type, week, step, model, forecast`` and
        ``lo80, hi80, lo95, hi95`` (for the default levels).
        """
        check_horizon(horizon, self.horizon)
        choice = self.chosen(horizon)
        n_series = len(self.panel.keys)
        point = self.forecasts[choice, np.arange(n_series), :horizon]
        half = interval_halfwidths(self.backtest, choice, horizon, levels)
        frame = self.panel.keys.loc[
            np.repeat(np.arange(n_series), horizon)
        ].reset_index(drop=True)
        frame["week"] = np.tile(self.future_weeks[:horizon], n_series)
        frame["step"] = np.tile(np.arange(1, horizon + 1), n_series)
        frame["model"] = np.repeat(np.asarray(self.backtest.models)[choice], horizon)
        frame["forecast"] = point.ravel()
        for k, level in enumerate(levels):
            tag = int(round(level * 100))
            q = half[:, :, k].ravel()
            frame[f"lo{tag}"] = np.maximum(point.ravel() * (1 - q), 0.0)
            frame[f"hi{tag}"] = point.ravel() * (1 + q)
        return frame

    def accuracy(self, step: int, series: list[int] | None = None) -> pd.DataFrame:
        """Backtest accuracy at ``step`` (see :func:`accuracy`)."""
        return accuracy(self.backtest, step, series)

    def series_index(self, series: str, doc_type: str) -> int:
        """Row of one (series, document type) in the panel."""
        keys = self.panel.keys
        hit = np.flatnonzero(
            (keys["series"] == series).to_numpy()
            & (keys["doc_type"] == doc_type).to_numpy()
        )
        if hit.size == 0:
            raise ForecastError(
                f"no series {series!r} for document type {doc_type!r}",
                "unknown_series", series=str(series), doc_type=str(doc_type),
            )  # fmt: skip
        return int(hit[0])


def check_horizon(horizon, longest: int = MAX_HORIZON) -> int:
    """Validate a horizon in weeks (4..``longest`` for plans, 1 allowed for tests).

    Examples
    --------
    >>> check_horizon(30)
    Traceback (most recent call last):
    ...
    data.forecast.ForecastError: horizon should be an integer in 1..26 weeks, got 30
    """
    try:
        value = int(horizon)
    except (TypeError, ValueError):
        value = None
    if value is None or value != horizon or not 1 <= value <= longest:
        raise ForecastError(
            f"horizon should be an integer in 1..{longest} weeks, got {horizon!r}"
            if not isinstance(horizon, int)
            else f"horizon should be an integer in 1..{longest} weeks, got {horizon}",
            "horizon", longest=int(longest),
        )  # fmt: skip
    return value


def forecast_panel(
    panel: Panel,
    level: str = "",
    *,
    horizon: int = MAX_HORIZON,
    n_eval: int = N_EVAL,
    refit_every: int = 4,
    progress: ProgressFn | None = None,
) -> LevelForecast:
    """Backtest every model on a panel, then forecast from its last week.

    Examples
    --------
    >>> t = np.arange(140)
    >>> y = 50 + 10 * np.sin(2 * np.pi * t / 52.18)
    >>> p = Panel(pd.date_range("2024-01-01", periods=140, freq="7D"),
    ...     pd.DataFrame({"series": ["A"], "name": ["a"], "doc_type": ["CNI"]}),
    ...     y[None, :])
    >>> lf = forecast_panel(p, horizon=4, n_eval=4)
    >>> list(lf.table(4).columns[:6])
    ['series', 'name', 'doc_type', 'week', 'step', 'model']
    """
    Y = panel.values
    steps = [0]
    total_steps = n_eval + horizon  # backtest origins + the final fit

    def tick(done: int, _total: int) -> None:
        steps[0] = done
        if progress is not None:
            progress(done, total_steps)

    bt = backtest(
        Y,
        panel.weeks,
        horizon=horizon,
        n_eval=n_eval,
        refit_every=refit_every,
        progress=tick,
    )
    model = GradientBoostingForecaster(horizon).fit(Y, _week0(panel.weeks))
    forecasts = np.stack(
        [seasonal_naive(Y, horizon), moving_average(Y, horizon), model.predict(Y)]
    )
    if progress is not None:
        progress(total_steps, total_steps)
    return LevelForecast(level, panel, bt, forecasts)


def forecast_level(
    store,
    dataset_id: int,
    level: str,
    *,
    doc_types: list[str] | None = None,
    horizon: int = MAX_HORIZON,
    progress: ProgressFn | None = None,
) -> LevelForecast:
    """Read a level's series from the store, backtest and forecast them.

    Parameters
    ----------
    store : data.store.Store
    dataset_id : int
    level : str
        See :func:`load_series`.
    doc_types : list of str, optional
    horizon : int
        Longest step (default 26 weeks); shorter horizons are slices of it.
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    LevelForecast

    Examples
    --------
    >>> from data.store import Store
    >>> s = Store("sqlite://"); s.upgrade()
    >>> forecast_level(s, 1, "center")
    Traceback (most recent call last):
    ...
    data.forecast.ForecastError: no weekly requests recorded for this selection
    """
    check_horizon(horizon)
    panel = to_panel(load_series(store, dataset_id, level, doc_types))
    return forecast_panel(panel, level, horizon=horizon, progress=progress)


# ------------------------------------------------------------ demand for scenarios


def commune_shares(
    store, dataset_id: int, level: str, weeks: int = SEASON
) -> pd.DataFrame:
    """Each commune's share of its ``level`` unit's requests, per document type.

    Shares are computed over the last ``weeks`` weeks of data and sum to 1 within
    each (unit, document type) that had requests.

    Returns
    -------
    pandas.DataFrame
        Columns ``commune_id, series, doc_type, share``.
    """
    levels = store.levels(dataset_id)
    if level not in levels["code"].tolist()[:-1]:
        raise ForecastError(f"shares need an administrative level, got {level!r}",
                            "unknown_level", level=str(level))  # fmt: skip
    level_no = int(levels.loc[levels["code"] == level, "level"].iloc[0])
    sql = (
        "SELECT o.commune_id AS commune_id, a.code AS series, o.doc_type AS doc_type, "
        "SUM(o.requests) AS requests FROM operations o "
        "JOIN unit_closure k ON k.descendant_id = o.commune_id "
        "JOIN admin_units a ON a.id = k.ancestor_id "
        "WHERE o.dataset_id = :d AND a.level = :level AND o.week > :since "
        "GROUP BY o.commune_id, a.code, o.doc_type"
    )
    last = store.weeks(dataset_id)
    if last is None:
        raise ForecastError("no weekly requests recorded for this dataset",
                            "no_requests")  # fmt: skip
    since = last[1] - pd.Timedelta(weeks=weeks)
    frame = store.read_frame(
        sql, {"d": int(dataset_id), "level": level_no, "since": since}
    )
    frame["requests"] = frame["requests"].astype(float)
    totals = frame.groupby(["series", "doc_type"])["requests"].transform("sum")
    frame["share"] = np.where(
        totals > 0, frame["requests"] / totals.where(totals > 0, 1), 0.0
    )
    return frame[["commune_id", "series", "doc_type", "share"]]


def forecast_demand_by_commune(
    store,
    dataset_id: int,
    horizon_weeks: int,
    doc_types: list[str] | None = None,
    *,
    forecast: LevelForecast | None = None,
    shares: pd.DataFrame | None = None,
) -> pd.Series:
    """Weekly requests expected per commune ``horizon_weeks`` ahead.

    Method: the department-level (the administrative level just above communes)
    forecast of each document type, by the model chosen by backtest for that
    department and horizon, for the week ``horizon_weeks`` after the last week of
    data, is split among the department's communes in proportion to each
    commune's share of the department's requests of that type over the last 52
    weeks; the document types are then summed. Communes with no requests in that
    year get zero.

    Parameters
    ----------
    store : data.store.Store
    dataset_id : int
    horizon_weeks : int
        1..26.
    doc_types : list of str, optional
        Document types to include (all by default).
    forecast : LevelForecast, optional
        A department-level forecast already computed (e.g. cached by the app), to
        avoid recomputing it; it must cover ``doc_types``.
    shares : pandas.DataFrame, optional
        :func:`commune_shares` of that level, already read (the same for every
        horizon).

    Returns
    -------
    pandas.Series
        Indexed by commune id (every commune of the dataset), named
        ``requests_week``; ``attrs`` record the horizon, week, level and method.

    Examples
    --------
    >>> from data.store import Store
    >>> s = Store("sqlite://"); s.upgrade()
    >>> forecast_demand_by_commune(s, 1, 0)
    Traceback (most recent call last):
    ...
    data.forecast.ForecastError: horizon should be an integer in 1..26 weeks, got 0
    """
    horizon = check_horizon(horizon_weeks)
    levels = store.levels(dataset_id)
    if len(levels) < 2:
        raise ForecastError("the dataset needs at least two administrative levels",
                            "needs_two_levels")  # fmt: skip
    level = levels["code"].iloc[-2]
    if forecast is None:
        forecast = forecast_level(store, dataset_id, level, doc_types=doc_types)
    elif forecast.level != level:
        raise ForecastError(
            f"'forecast' should be at level {level!r}, got {forecast.level!r}"
        )
    table = forecast.table(horizon)
    table = table[table["step"] == horizon]
    if doc_types is not None:
        missing = sorted(set(doc_types) - set(table["doc_type"]))
        if missing:
            raise ForecastError(f"unknown document types: {', '.join(missing)}",
                                "unknown_doc_types", types=", ".join(missing))  # fmt: skip
        table = table[table["doc_type"].isin(doc_types)]
    if shares is None:
        shares = commune_shares(store, dataset_id, level)
    merged = shares.merge(
        table[["series", "doc_type", "forecast"]], on=["series", "doc_type"]
    )
    merged["demand"] = merged["share"] * merged["forecast"]
    communes = store.units(dataset_id, int(levels["level"].iloc[-1]))["id"]
    out = (
        merged.groupby("commune_id")["demand"]
        .sum()
        .reindex(communes.to_numpy(), fill_value=0.0)
        .rename("requests_week")
    )
    out.index.name = "commune_id"
    out.attrs.update(
        horizon_weeks=horizon,
        week=forecast.future_weeks[horizon - 1].date().isoformat(),
        level=level,
        doc_types=sorted(table["doc_type"].unique()),
        method="department forecast x commune share of last 52 weeks",
    )
    return out
