"""Delay-risk drivers: which center-weeks miss the target delay, and with what.

One row per center and week, built from the store: the outcome is whether the
center **misses the target delay** (fewer than 80% of the documents delivered that
week were delivered within their type's target delay) or has a **high rejection
rate** (more than 6% of requests rejected); the features describe the center and
the communes it serves that week (utilisation, backlog carried from the previous
week, staff, distance, document mix, season, commune indicators).

Two classifiers are compared on a time-based split (trained on the weeks before the
last ``test_weeks``, scored on those): a standardised logistic regression and
gradient boosting. For each: the ROC curve and its area, the confusion matrix at a
0.5 probability threshold, and the permutation importance of each feature on the
test weeks (the drop in ROC AUC when that feature's values are shuffled).

What this can conclude: which features the outcome is *associated* with in these
data, and how well the outcome can be anticipated from them. It cannot conclude
causes: features move together (busy centers are also urban and have more
staff), the data are observational, and an important feature is one the model
*uses*, not one whose change would change delays.

Examples
--------
>>> sorted(TARGETS)
['late', 'rejections']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

# outcome -> threshold: late when on-time share < 0.8, rejections when rate > 0.06
TARGETS = {"late": 0.8, "rejections": 0.06}
FEATURES = (
    "utilisation",
    "backlog_prev",
    "staff",
    "capacity_per_staff",
    "distance_km",
    "share_pass",
    "share_acte",
    "season_sin",
    "season_cos",
    "poverty_rate",
    "literacy_rate",
    "internet_rate",
    "urban_share",
)
RISK_MODELS = ("logistic", "gradient_boosting")
TEST_WEEKS = 26
THRESHOLD = 0.5


class RiskError(ValueError):
    """The risk model cannot run on these inputs; the message says why."""


def center_weeks(store, dataset_id: int) -> pd.DataFrame:
    """Outcomes and features per center and week, from the store.

    Returns
    -------
    pandas.DataFrame
        Columns ``week, center_id, requests, on_time_share, rejection_rate`` and
        every name in :data:`FEATURES`. Commune indicators and distance are means
        over the communes served that week weighted by their requests; the distance
        is the commune's distance to its nearest open center (``commune_access``);
        ``backlog_prev`` is the previous week's backlog per unit of capacity.

    Examples
    --------
    >>> from data.store import Store
    >>> s = Store("sqlite://"); s.upgrade()
    >>> len(center_weeks(s, 1))
    0
    """
    sql = (
        "SELECT o.week AS week, o.center_id AS center_id, o.doc_type AS doc_type, "
        "SUM(o.requests) AS requests, SUM(o.delivered) AS delivered, "
        "SUM(o.delivered_on_time) AS on_time, SUM(o.rejected) AS rejected, "
        "SUM(o.backlog) AS backlog, "
        "SUM(o.requests * COALESCE(a.distance_km, 0)) AS w_distance, "
        "SUM(o.requests * COALESCE(u.poverty_rate, 0)) AS w_poverty, "
        "SUM(o.requests * COALESCE(u.literacy_rate, 0)) AS w_literacy, "
        "SUM(o.requests * COALESCE(u.internet_rate, 0)) AS w_internet, "
        "SUM(CASE WHEN u.urban THEN o.requests ELSE 0 END) AS w_urban "
        "FROM operations o JOIN admin_units u ON u.id = o.commune_id "
        "LEFT JOIN commune_access a ON a.commune_id = o.commune_id "
        "WHERE o.dataset_id = :d GROUP BY o.week, o.center_id, o.doc_type"
    )
    rows = store.read_frame(sql, {"d": int(dataset_id)})
    columns = ["week", "center_id", "requests", "on_time_share", "rejection_rate"]
    if rows.empty:
        return pd.DataFrame(columns=[*columns, *FEATURES])
    sums = rows.drop(columns="doc_type").groupby(["week", "center_id"]).sum()
    sums = sums.astype(float)
    by_type = rows.pivot_table(
        index=["week", "center_id"],
        columns="doc_type",
        values="requests",
        aggfunc="sum",
        fill_value=0,
    )
    out = sums.reset_index()
    out["week"] = pd.to_datetime(out["week"])
    out = out.sort_values(["center_id", "week"], ignore_index=True)
    req = out["requests"].to_numpy()
    safe = np.where(req > 0, req, 1.0)
    centers = store.centers(dataset_id).set_index("id")
    capacity = out["center_id"].map(centers["capacity_week"]).astype(float)
    staff = out["center_id"].map(centers["staff"]).astype(float)
    out["on_time_share"] = out["on_time"] / out["delivered"].where(out["delivered"] > 0)
    out["rejection_rate"] = out["rejected"] / out["requests"].where(req > 0)
    out["utilisation"] = req / capacity.where(capacity > 0)
    previous = out.groupby("center_id")["backlog"].shift(1)
    out["backlog_prev"] = previous / capacity.where(capacity > 0)
    out["staff"] = staff
    out["capacity_per_staff"] = capacity / staff.where(staff > 0)
    out["distance_km"] = out["w_distance"] / safe
    mix = by_type.reset_index()
    mix["week"] = pd.to_datetime(mix["week"])
    mix = out[["week", "center_id"]].merge(mix, on=["week", "center_id"], how="left")
    for code, name in (("PASS", "share_pass"), ("ACTE", "share_acte")):
        values = mix[code].to_numpy(dtype=float) if code in mix else np.zeros(len(out))
        out[name] = values / safe
    phase = 2 * np.pi * (out["week"].dt.day_of_year - 1) / 365.25
    out["season_sin"] = np.sin(phase)
    out["season_cos"] = np.cos(phase)
    out["poverty_rate"] = out["w_poverty"] / safe
    out["literacy_rate"] = out["w_literacy"] / safe
    out["internet_rate"] = out["w_internet"] / safe
    out["urban_share"] = out["w_urban"] / safe
    return out[[*columns, *FEATURES]]


def outcome(frame: pd.DataFrame, target: str) -> pd.Series:
    """Boolean outcome per row: ``late`` or ``rejections`` (see :data:`TARGETS`).

    Rows where the outcome is undefined (nothing delivered or requested) are NaN.

    Examples
    --------
    >>> f = pd.DataFrame({"on_time_share": [0.9, 0.5, None], "rejection_rate": 0.0})
    >>> outcome(f, "late").tolist()
    [0.0, 1.0, nan]
    """
    if target not in TARGETS:
        raise RiskError(
            f"unknown target {target!r}: expected one of {', '.join(TARGETS)}"
        )
    if target == "late":
        share = frame["on_time_share"]
        return (share < TARGETS["late"]).astype(float).where(share.notna())
    rate = frame["rejection_rate"]
    return (rate > TARGETS["rejections"]).astype(float).where(rate.notna())


@dataclass(frozen=True)
class ModelReport:
    """How one classifier does on the test weeks."""

    name: str
    auc: float
    fpr: np.ndarray
    tpr: np.ndarray
    confusion: np.ndarray  # [[tn, fp], [fn, tp]] at THRESHOLD
    importance: pd.DataFrame  # index feature; columns mean, std (AUC drop)


@dataclass(frozen=True)
class RiskReport:
    """Both classifiers on a time-based split.

    Attributes
    ----------
    target : str
    split_week : Timestamp
        First test week; the models are fitted on earlier weeks only.
    n_train, n_test : int
    positive_train, positive_test : float
        Share of positive center-weeks in each part.
    models : dict of str to ModelReport
    """

    target: str
    split_week: pd.Timestamp
    n_train: int
    n_test: int
    positive_train: float
    positive_test: float
    models: dict


def time_split(
    frame: pd.DataFrame, test_weeks: int = TEST_WEEKS
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Train on every week before the last ``test_weeks``, test on those.

    Examples
    --------
    >>> f = pd.DataFrame({"week": pd.date_range("2024-01-01", periods=5, freq="7D")})
    >>> train, test, first = time_split(f, 2)
    >>> len(train), len(test), str(first.date())
    (3, 2, '2024-01-22')
    """
    weeks = np.sort(frame["week"].unique())
    if test_weeks < 1 or len(weeks) < 2 * test_weeks:
        raise RiskError(
            f"needs at least {2 * max(test_weeks, 1)} weeks (as many to train on as "
            f"the {test_weeks} test weeks), got {len(weeks)}"
        )
    first = pd.Timestamp(weeks[len(weeks) - test_weeks])
    return frame[frame["week"] < first], frame[frame["week"] >= first], first


def _classifiers(random_state: int) -> dict:
    return {
        "logistic": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, C=1.0)
        ),
        "gradient_boosting": HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=30,
            early_stopping=False,
            random_state=random_state,
        ),
    }


def fit_risk(
    frame: pd.DataFrame,
    target: str = "late",
    *,
    test_weeks: int = TEST_WEEKS,
    n_repeats: int = 5,
    random_state: int = 0,
) -> RiskReport:
    """Fit and compare both classifiers on a time-based split.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`center_weeks` output (or any frame with ``week``, the outcome
        columns and :data:`FEATURES`).
    target : {'late', 'rejections'}
    test_weeks : int
        The last weeks held out for testing.
    n_repeats : int
        Shuffles per feature for the permutation importance.

    Returns
    -------
    RiskReport

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 40 * 30
    >>> f = pd.DataFrame({k: rng.random(n) for k in FEATURES})
    >>> f["week"] = np.repeat(pd.date_range("2024-01-01", periods=30, freq="7D"), 40)
    >>> f["on_time_share"] = 1 - f["utilisation"] + rng.normal(0, 0.05, n)
    >>> f["rejection_rate"] = 0.0
    >>> r = fit_risk(f, "late", test_weeks=8, n_repeats=2)
    >>> r.models["logistic"].importance.index[0]
    'utilisation'
    """
    missing = [c for c in ("week", *FEATURES) if c not in frame.columns]
    if missing:
        raise RiskError(f"missing columns: {', '.join(missing)}")
    y_all = outcome(frame, target)
    data = frame.assign(_y=y_all).dropna(subset=["_y", *FEATURES])
    if data.empty:
        raise RiskError("no center-week with a defined outcome and every feature")
    train, test, first = time_split(data, test_weeks)
    y_train, y_test = train["_y"].astype(int), test["_y"].astype(int)
    for part, y in (("training", y_train), ("test", y_test)):
        if y.nunique() < 2:
            raise RiskError(
                f"the {part} weeks hold only one outcome class: nothing to learn "
                "or score (try the other outcome or a longer history)"
            )
    X_train = train[list(FEATURES)].to_numpy(dtype=float)
    X_test = test[list(FEATURES)].to_numpy(dtype=float)
    reports = {}
    with threadpool_limits(1):
        for name, model in _classifiers(random_state).items():
            model.fit(X_train, y_train)
            proba = model.predict_proba(X_test)[:, 1]
            fpr, tpr, _ = roc_curve(y_test, proba)
            cm = confusion_matrix(
                y_test, (proba >= THRESHOLD).astype(int), labels=[0, 1]
            )
            perm = permutation_importance(
                model,
                X_test,
                y_test,
                scoring="roc_auc",
                n_repeats=n_repeats,
                random_state=random_state,
            )
            importance = pd.DataFrame(
                {"mean": perm.importances_mean, "std": perm.importances_std},
                index=pd.Index(FEATURES, name="feature"),
            ).sort_values("mean", ascending=False)
            reports[name] = ModelReport(
                name, float(roc_auc_score(y_test, proba)), fpr, tpr, cm, importance
            )
    return RiskReport(
        target,
        first,
        len(train),
        len(test),
        float(y_train.mean()),
        float(y_test.mean()),
        reports,
    )
