"""What to change in the network: facility location models, solvers, scenarios.

Plain Python, usable from a notebook with numpy arrays alone::

    from optimization import PMedian, SiteRules
    sites = SiteRules.build(cost.shape[1], existing=today, max_new=3)
    model = PMedian.from_cost_matrix(cost, weights, 20, sites).solve(time_limit=60)
    model.status, model.objective, model.bound, model.gap, model.open_sites
"""

from optimization.attendance import Attendance, Decay
from optimization.coverage import LSCP, MCLP
from optimization.distances import (
    DistanceCache,
    load_cost_matrix_csv,
    representative_points,
)
from optimization.errors import InfeasibleError, OptimizationError, Reason
from optimization.inputs import EquityRule, Labels, SiteRules
from optimization.pcenter import PCenter
from optimization.pmedian import PMedian
from optimization.reallocation import CapacityReallocation
from optimization.solver import LinearModel, SolveProgress, SolveReport, solve_model

__all__ = [
    "LSCP",
    "MCLP",
    "Attendance",
    "CapacityReallocation",
    "Decay",
    "DistanceCache",
    "EquityRule",
    "InfeasibleError",
    "Labels",
    "LinearModel",
    "OptimizationError",
    "PCenter",
    "PMedian",
    "Reason",
    "SolveProgress",
    "SiteRules",
    "SolveReport",
    "load_cost_matrix_csv",
    "representative_points",
    "solve_model",
]
