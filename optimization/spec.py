"""The scenario file: one typed model per section, validated by pydantic.

:func:`load_spec` reads a JSON file (or a dict) and returns a
:class:`ScenarioSpec` whose sections are plain dicts of the validated values
(defaults filled in as the schema in :mod:`optimization.scenario` says), ready
for JSON storage and for :func:`optimization.scenario.run_scenario`. Every
refusal is a :class:`ScenarioError` naming the file's key, for example
``'parameters.p' should be >= 1, got 0``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    model_validator,
)

__all__ = [
    "AGGREGATE_POINTS",
    "CAPACITY_MODELS",
    "MODELS",
    "ScenarioError",
    "ScenarioSpec",
    "aggregation_blocker",
    "load_spec",
]

MODELS = ("pmedian", "mclp", "lscp", "pcenter", "reallocation", "attendance")
#: Models that can impose the site capacities (``parameters.capacitated`` and
#: ``split``); the others refuse them rather than run without them.
CAPACITY_MODELS = ("pmedian", "mclp", "pcenter")
#: Models that can add capacity modules (``parameters.modules``).
MODULE_MODELS = ("pmedian",)
#: Aggregated demand points used when ``aggregate.max_points`` is not given.
AGGREGATE_POINTS = 2000


class ScenarioError(ValueError):
    """A scenario that cannot be run: bad spec, bad inputs or infeasible plan."""


# -- field types -----------------------------------------------------------------


def _number(
    lo: float | None = 0.0, hi: float | None = None, integer: bool = False
) -> Callable[[Any], Any]:
    """A validator of a finite number within bounds (its message names no key)."""

    def check(value: Any) -> Any:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            raise ValueError(f"should be a number, got {value!r}")
        if integer and int(value) != value:
            raise ValueError(f"should be a whole number, got {value!r}")
        if lo is not None and value < lo:
            raise ValueError(f"should be >= {lo}, got {value!r}")
        if hi is not None and value > hi:
            raise ValueError(f"should be <= {hi}, got {value!r}")
        return int(value) if integer else float(value)

    return check


def _site_ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("should be a list of site ids")
    return [str(x) for x in value]


def _forecast(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError("should map commune ids to demand values")
    return value


def _missing(value: Any) -> Any:
    if value in ("error", "forbid") or (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    ):
        return value
    raise ValueError("should be 'error', 'forbid' or a number")


def _shares(value: Any) -> Any:
    if not isinstance(value, dict):
        return _number(hi=1.0)(value)
    shares = {}
    for group, share in value.items():
        try:
            shares[group] = _number(hi=1.0)(share)
        except ValueError as exc:
            raise ValueError(f"for {group!r} {exc}") from None
    return shares


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("should be true or false")
    return value


Number = Annotated[float, BeforeValidator(_number())]
Rate = Annotated[float, BeforeValidator(_number(lo=-1.0))]
Share = Annotated[float, BeforeValidator(_number(hi=1.0))]
Count = Annotated[int, BeforeValidator(_number(integer=True))]
Positive = Annotated[int, BeforeValidator(_number(integer=True, lo=1))]
SiteIds = Annotated[list[str], BeforeValidator(_site_ids)]
Flag = Annotated[bool, BeforeValidator(_flag)]


class _Section(BaseModel):
    """A section: unknown keys refused, only what the file gave (or a default) kept."""

    model_config = ConfigDict(extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """The keys given in the file, and the defaults the schema fills in."""
        return self.model_dump(exclude_unset=True)


def _defaults(**values: Any) -> Callable[[Any], Any]:
    """A before-validator that fills in defaults, so that they count as given."""

    def fill(data: Any) -> Any:
        if isinstance(data, dict):
            data = {**values, **data}
        return data

    return fill


# -- sections ----------------------------------------------------------------------


class Demand(_Section):
    """``demand``: what the weights are (population or requests), grown or replaced."""

    source: Literal["population", "requests"] = "population"
    growth_rate: Rate | None = None
    years: Number | None = None
    requests_per_capita: Number | None = None
    forecast: Annotated[dict, BeforeValidator(_forecast)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        data = _defaults(source="population")(data)
        if isinstance(data, dict) and "growth_rate" in data:
            data.setdefault("years", 1)
        return data


class Distance(_Section):
    """``distance``: great-circle km, a cost matrix CSV, or travel time on the
    dataset's roads (``mode`` and ``season``, minutes; see :mod:`geo.roads`)."""

    kind: Literal["great_circle", "matrix", "travel_time"] = "great_circle"
    matrix_csv: str | None = None
    missing: Annotated[Any, BeforeValidator(_missing)] = "error"
    unit: str = "km"
    mode: Literal["walking", "motorised"] | None = None
    season: Literal["dry", "rainy"] | None = None
    cutoff_min: (
        Annotated[float, BeforeValidator(_number(lo=1.0, hi=10_000.0))] | None
    ) = None

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        data = _defaults(kind="great_circle", missing="error")(data)
        if isinstance(data, dict) and "unit" not in data:
            data["unit"] = "km" if data["kind"] == "great_circle" else "min"
        if isinstance(data, dict) and data.get("kind") == "travel_time":
            data = _defaults(mode="motorised", season="dry")(data)
        return data

    @model_validator(mode="after")
    def _travel_time_only(self) -> Distance:
        if self.kind != "travel_time":
            for key in ("mode", "season", "cutoff_min"):
                if getattr(self, key) is not None:
                    raise ValueError(f"sets '{key}' but 'kind' is not 'travel_time'")
        elif self.unit != "min":
            raise ValueError("is in minutes for travel times: 'unit' should be 'min'")
        return self


class Sites(_Section):
    """``sites``: which sites may open or close, and at what cost."""

    use_candidates: Any = True
    closable: Any = True
    locked: SiteIds = []
    forbidden: SiteIds = []
    closing_cost: Any = 0.0
    max_new: Count | None = None
    budget: Number | None = None

    _fill = model_validator(mode="before")(_defaults(locked=[], forbidden=[]))


class Modules(_Section):
    """``parameters.modules``: capacity added to an open site in steps, at a cost."""

    size: Number
    cost: Number | None = None
    max: Number | None = None


def _above_zero(value: Any) -> float:
    value = _number(lo=None)(value)
    if value <= 0:
        raise ValueError(f"should be > 0, got {value!r}")
    return value


AboveZero = Annotated[float, BeforeValidator(_above_zero)]


class DecaySection(_Section):
    """``parameters.decay``: how attendance falls with distance (model attendance)."""

    function: Literal["linear", "exponential", "power"]
    cutoff: AboveZero | None = None
    half_distance: AboveZero | None = None
    exponent: AboveZero | None = None
    scale: AboveZero | None = None

    @model_validator(mode="after")
    def _parameters(self) -> DecaySection:
        from optimization.attendance import Decay

        try:
            Decay.from_dict(self.to_dict())
        except ValueError as exc:
            raise ValueError(f"is invalid: {exc}") from None
        return self


class Parameters(_Section):
    """``parameters``: the model's numbers."""

    p: Positive | None = None
    service_radius: Number | None = None
    max_distance: Number | None = None
    capacitated: Any = False
    split: Any = False
    modules: Modules | None = None
    cost_weight: Number | None = None
    decay: DecaySection | None = None


class Equity(_Section):
    """``equity``: minimum share of each department's or region's demand within reach."""

    level: Literal["department", "region"] = "department"
    radius: Number | None = None
    min_share: Annotated[Any, BeforeValidator(_shares)]

    _fill = model_validator(mode="before")(_defaults(level="department"))


class Reallocation(_Section):
    """``reallocation``: what staffing minimises, and its limits."""

    objective: Literal["unmet", "overload", "delay"] = "unmet"
    total_staff: Any = None
    budget: Any = None
    staff_cost: Any = None
    min_staff: Any = 1

    _fill = model_validator(mode="before")(_defaults(objective="unmet"))


class Solver(_Section):
    """``solver``: which solver, how long, how close to optimal."""

    name: Literal["highs", "cbc"] = "highs"
    time_limit: Number | None = None
    gap: Share | None = None

    _fill = model_validator(mode="before")(_defaults(name="highs"))


class Aggregate(_Section):
    """``aggregate``: solve a p-median on aggregated demand points."""

    enabled: Flag = True
    max_points: Positive = AGGREGATE_POINTS

    _fill = model_validator(mode="before")(
        _defaults(enabled=True, max_points=AGGREGATE_POINTS)
    )


#: Sections that are objects; a missing or empty one is an empty object.
_OBJECTS = ("demand", "distance", "sites", "parameters", "reallocation", "solver")


class ScenarioFile(BaseModel):
    """The whole file: its sections, then the rules that tie sections together."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["pmedian", "mclp", "lscp", "pcenter", "reallocation", "attendance"]
    name: Any = "scenario"
    description: Any = None
    demand: Demand
    distance: Distance
    sites: Sites
    parameters: Parameters
    equity: Equity | None = None
    reallocation: Reallocation
    solver: Solver
    report_radius: Number | None = None
    aggregate: Aggregate | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in _OBJECTS:
            data[key] = data.get(key) or {}
        for key in ("equity", "aggregate"):
            if data.get(key) is not None and not data[key]:
                data[key] = {}
        return data

    @model_validator(mode="after")
    def _together(self) -> ScenarioFile:
        par = self.parameters
        if self.model in ("mclp", "pcenter", "attendance") and par.p is None:
            raise ValueError(f"model '{self.model}' needs 'parameters.p'")
        if self.model == "attendance":
            if par.decay is None:
                raise ValueError(
                    "model 'attendance' needs 'parameters.decay', e.g. "
                    '{"function": "linear", "cutoff": 30}'
                )
            for key in ("capacitated", "split", "modules"):
                if getattr(par, key):
                    raise ValueError(
                        f"model 'attendance' does not take 'parameters.{key}'"
                    )
        elif par.decay is not None:
            raise ValueError("'parameters.decay' is only for model 'attendance'")
        for key in ("capacitated", "split"):
            if getattr(par, key) and self.model not in CAPACITY_MODELS:
                able = list(CAPACITY_MODELS)
                raise ValueError(
                    f"model '{self.model}' does not take 'parameters.{key}': it "
                    f"cannot impose capacities (models that can: {able})"
                )
        if par.modules is not None and self.model not in MODULE_MODELS:
            raise ValueError(
                f"model '{self.model}' does not take 'parameters.modules' "
                f"(models that can: {list(MODULE_MODELS)})"
            )
        if par.split and not par.capacitated:
            raise ValueError(
                "'parameters.split' shares a commune between centers to respect "
                "capacities: it needs 'parameters.capacitated'"
            )
        if self.model in ("mclp", "lscp") and par.service_radius is None:
            raise ValueError(f"model '{self.model}' needs 'parameters.service_radius'")
        if self.distance.kind == "matrix" and not self.distance.matrix_csv:
            raise ValueError("'distance.kind' = 'matrix' needs 'distance.matrix_csv'")
        if self.equity is not None and self.equity.radius is None:
            if par.service_radius is None:
                raise ValueError("'equity' needs 'radius'")
            self.equity.radius = par.service_radius
        if self.aggregate is not None and self.aggregate.enabled:
            blocker = aggregation_blocker(
                self.model,
                par.to_dict(),
                self.distance.to_dict(),
                self.equity is not None,
            )
            if blocker is not None:
                raise ValueError(
                    f"'aggregate' cannot be used with {blocker}: its gap could not "
                    "be proven"
                )
        if self.report_radius is None:
            self.report_radius = par.service_radius
        return self


def aggregation_blocker(
    model: str, parameters: Mapping[str, Any], distance: Mapping[str, Any], equity: Any
) -> str | None:
    """Why the aggregation bound would not hold for this scenario, or None."""
    if model != "pmedian":
        return f"model '{model}' (the error bound is proven for the p-median only)"
    if distance.get("kind", "great_circle") != "great_circle":
        return "a cost matrix (the bound needs great-circle distances)"
    for key in ("capacitated", "split"):
        if parameters.get(key):
            return f"'parameters.{key}'"
    for key in ("modules", "max_distance"):
        if parameters.get(key) is not None:
            return f"'parameters.{key}'"
    if equity:
        return "an equity rule"
    return None


# -- the spec ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioSpec:
    """A validated scenario (see :mod:`optimization.scenario` for the JSON schema)."""

    model: str
    name: str = "scenario"
    demand: dict[str, Any] = field(default_factory=dict)
    distance: dict[str, Any] = field(default_factory=dict)
    sites: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    equity: dict[str, Any] | None = None
    reallocation: dict[str, Any] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    report_radius: float | None = None
    aggregate: dict[str, Any] | None = None
    base_dir: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (without ``base_dir``)."""
        return {
            "name": self.name,
            "model": self.model,
            "demand": self.demand,
            "distance": self.distance,
            "sites": self.sites,
            "parameters": self.parameters,
            "equity": self.equity,
            "reallocation": self.reallocation,
            "solver": self.solver,
            "report_radius": self.report_radius,
            "aggregate": self.aggregate,
        }


def _read(path: Path) -> Any:
    """The JSON of a scenario file, or a ScenarioError saying what is wrong with it."""
    if not path.is_file():
        raise ScenarioError(f"scenario file {path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario file {path} is not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"scenario file {path} is not UTF-8 text (byte "
            f"0x{exc.object[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
    except RecursionError:
        raise ScenarioError(
            f"scenario file {path} nests lists or objects too deeply"
        ) from None


def _allowed(model: type[BaseModel]) -> list[str]:
    return sorted(model.model_fields)


def _section_model(loc: tuple) -> type[BaseModel]:
    """The model of the section at ``loc`` (the file itself for ``()``)."""
    model: type[BaseModel] = ScenarioFile
    for key in loc:
        annotation = model.model_fields[key].annotation
        model = next(
            t
            for t in (annotation, *getattr(annotation, "__args__", ()))
            if isinstance(t, type) and issubclass(t, BaseModel)
        )
    return model


def _message(exc: ValidationError) -> str:
    """The first problem of a validation error, worded with the file's keys."""
    errors = exc.errors()
    err = errors[0]
    loc = tuple(str(part) for part in err["loc"])
    key = ".".join(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        where = loc[:-1]
        extra = sorted(
            str(e["loc"][-1])
            for e in errors
            if e["type"] == "extra_forbidden"
            and tuple(map(str, e["loc"][:-1])) == where
        )
        allowed = _allowed(_section_model(where))
        if not where:
            return f"unknown scenario keys {extra}; allowed: {allowed}"
        return f"unknown keys in '{'.'.join(where)}': {extra}; allowed: {allowed}"
    if kind == "value_error":
        text = str(err["ctx"]["error"])
        return f"'{key}' {text}" if loc else text
    if kind == "literal_error":
        expected = list(err["ctx"]["expected"].replace("'", "").split(" or "))
        expected = [x for part in expected for x in part.split(", ")]
        return f"'{key}' should be one of {expected}, got {err['input']!r}"
    if kind == "missing":
        return f"'{'.'.join(loc[:-1])}' needs '{loc[-1]}'"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        got = type(err["input"]).__name__
        return f"'{key}' should be an object, got {got}"
    return f"'{key}': {err['msg']}"


def load_spec(source: str | Path | Mapping[str, Any]) -> ScenarioSpec:
    """Read and validate a scenario from a JSON file path or a dict.

    Raises
    ------
    ScenarioError
        With a message naming the offending key.

    Examples
    --------
    >>> spec = load_spec({"model": "pmedian", "parameters": {"p": 3}})
    >>> spec.model, spec.parameters["p"], spec.demand["source"]
    ('pmedian', 3, 'population')
    >>> load_spec({"model": "pmedian", "parameters": {"p": 0}})
    Traceback (most recent call last):
    ...
    optimization.spec.ScenarioError: 'parameters.p' should be >= 1, got 0
    >>> load_spec({"model": "pmedian", "sites": {"max_new": 2, "open": 1}})
    Traceback (most recent call last):
    ...
    optimization.spec.ScenarioError: unknown keys in 'sites': ['open']; allowed: [...]
    """
    base_dir = None
    if isinstance(source, Mapping):
        raw = dict(source)
    else:
        path = Path(source)
        raw = _read(path)
        base_dir = path.parent
    if not isinstance(raw, dict):
        raise ScenarioError("a scenario should be a JSON object")
    if raw.get("model") not in MODELS:
        raise ScenarioError(
            f"'model' should be one of {list(MODELS)}, got {raw.get('model')!r}"
        )
    try:
        valid = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_message(exc)) from None
    return ScenarioSpec(
        model=valid.model,
        name=str(valid.name),
        demand=valid.demand.to_dict(),
        distance=valid.distance.to_dict(),
        sites=valid.sites.to_dict(),
        parameters=valid.parameters.to_dict(),
        equity=None if valid.equity is None else valid.equity.to_dict(),
        reallocation=valid.reallocation.to_dict(),
        solver=valid.solver.to_dict(),
        report_radius=valid.report_radius,
        aggregate=None if valid.aggregate is None else valid.aggregate.to_dict(),
        base_dir=base_dir,
    )
