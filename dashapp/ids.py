"""Every component id, as constants prefixed by feature."""

# shared
URL = "app-url"
LANG = "app-lang"
DATASET = "app-dataset"
PAGE = "app-page"
ALERTS = "app-alerts"

# main screen: filters
LEVEL = "filters-level"
INDICATOR = "filters-indicator"
REGION = "filters-region"
DEPARTMENT = "filters-department"
DOC_TYPES = "filters-doc-types"
PERIOD = "filters-period"
RADIUS = "filters-radius"
RESET = "filters-reset"
FILTER_MESSAGES = "filters-messages"
URL_MESSAGES = "filters-url-messages"

# main screen: outputs
MAP = "overview-map"
KPI_CARDS = "overview-kpi-cards"
SCOPE_LABEL = "overview-scope-label"
CAPACITY_CHART = "overview-capacity-chart"
CAPACITY_MODE = "overview-capacity-mode"
TIMESERIES = "overview-timeseries"

# KPI catalogue page
CATALOGUE_GRID = "catalogue-grid"


def kpi_card(kpi_id: str) -> dict:
    """Pattern-matching id of one KPI card's value."""
    return {"type": "kpi-card-value", "index": kpi_id}
