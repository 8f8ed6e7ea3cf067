"""Every component id, as constants prefixed by feature."""

# shared
URL = "app-url"
LANG = "app-lang"
DATASET = "app-dataset"
PAGE = "app-page"
ALERTS = "app-alerts"

# help: glossary panel and first-use guides (layouts/shell.py)
HELP_OPEN = "help-open"
HELP_PANEL = "help-panel"
HELP_AGAIN = "help-guide-again"
GUIDE = "help-guide"
GUIDE_STEPS = "help-guide-steps"
GUIDE_SEEN = "help-guide-seen"  # screens whose guide this browser dismissed
GUIDE_DISMISS = "help-guide-dismiss"

# main screen: filters
LEVEL = "filters-level"
INDICATOR = "filters-indicator"
AREA = "filters-area"  # type of the area filters' pattern-matching ids
AREAS = "filters-areas"  # the block holding them
DOC_TYPES = "filters-doc-types"
PERIOD = "filters-period"
RADIUS = "filters-radius"
RESET = "filters-reset"
FILTER_MESSAGES = "filters-messages"
URL_MESSAGES = "filters-url-messages"

# main screen: outputs
MAP = "overview-map"
MAP_LAYER = "overview-map-layer"  # key of what the map draws (dashapp.services.maps)
MAP_ACCESS = "overview-map-access"  # colour the map by an access indicator by road
MAP_LAYERS = "overview-map-layers"  # overlays: road network, catchments
KPI_CARDS = "overview-kpi-cards"
SCOPE_LABEL = "overview-scope-label"
CAPACITY_CHART = "overview-capacity-chart"
CAPACITY_MODE = "overview-capacity-mode"
TIMESERIES = "overview-timeseries"
# True once the weekly series is (nearly) on screen: it is drawn only then
TIMESERIES_SEEN = "overview-timeseries-seen"
# the box around the series, watched for the scroll (kept when the graph is redrawn)
TIMESERIES_BOX = "overview-timeseries-box"
ROAD_MEASURE = "overview-road-measure"  # travel mode and season of the road access
ROAD_ACCESS = "overview-road-access"

# KPI catalogue page
CATALOGUE_GRID = "catalogue-grid"

# segmentation screen
SEG_REGION = "seg-region"
SEG_FEATURES = "seg-features"
SEG_METHOD = "seg-method"
SEG_K = "seg-k"
SEG_RUN = "seg-run"
SEG_CANCEL = "seg-cancel"
SEG_PROGRESS = "seg-progress"
SEG_RESULT = "seg-result"
SEG_MESSAGES = "seg-messages"
SEG_SUMMARY = "seg-summary"
SEG_MAP = "seg-map"
SEG_MAP_NOTE = "seg-map-note"
SEG_SCORES = "seg-scores"
SEG_PCA = "seg-pca"
SEG_PROFILE = "seg-profile"
SEG_EXPORT_CSV = "seg-export-csv"
SEG_EXPORT_XLSX = "seg-export-xlsx"
SEG_DOWNLOAD = "seg-download"
SEG_N_SITES = "seg-n-sites"
SEG_SITES_RUN = "seg-sites-run"
SEG_SITES = "seg-sites"
SEG_SITES_TABLE = "seg-sites-table"
SEG_SITES_ADD = "seg-sites-add"
SEG_SITES_MESSAGE = "seg-sites-message"


def seg_recommendation(cluster: int) -> dict:
    """Pattern-matching id of the editable recommendation of one cluster."""
    return {"type": "seg-recommendation", "index": cluster}


def area_filter(level) -> dict:
    """Pattern-matching id of the area filter of one admin level (a level number)."""
    return {"type": AREA, "index": level}


def kpi_card(kpi_id: str) -> dict:
    """Pattern-matching id of one KPI card's value."""
    return {"type": "kpi-card-value", "index": kpi_id}


# scenario workspace
SCN_OBJECTIVE = "scn-objective"
SCN_NEW = "scn-new-centers"
SCN_BUDGET = "scn-budget"
SCN_RADIUS = "scn-radius"
SCN_GROWTH = "scn-growth"
SCN_YEARS = "scn-years"
SCN_CAPACITY = "scn-capacity-change"
SCN_CLOSURES = "scn-allow-closures"
SCN_CAPACITATED = "scn-capacitated"
SCN_MIN_COVERAGE = "scn-min-coverage"
SCN_MAX_DISTANCE = "scn-max-distance"
SCN_DECAY = "scn-decay"
SCN_DECAY_DISTANCE = "scn-decay-distance"
SCN_DECAY_DISTANCE_LABEL = "scn-decay-distance-label"
SCN_DECAY_EXPONENT = "scn-decay-exponent"
# how access is measured (km, or travel time by mode and season) and what follows it
SCN_MEASURE = "scn-measure"
SCN_MEASURE_NOTE = "scn-measure-note"
SCN_RADIUS_LABEL = "scn-radius-label"
SCN_MAX_DISTANCE_LABEL = "scn-max-distance-label"
SCN_MAP_LEGEND = "scn-map-legend"
SCN_TIME_LIMIT = "scn-time-limit"
SCN_CLICK_MODE = "scn-click-mode"
SCN_SITES = "scn-sites"
SCN_SITES_LIST = "scn-sites-list"
SCN_SITES_RESET = "scn-sites-reset"
SCN_MESSAGES = "scn-messages"
SCN_INSTANT = "scn-instant-kpis"
SCN_MAP = "scn-map"
SCN_VIEW = "scn-view"
SCN_RUN = "scn-run"
SCN_CANCEL = "scn-cancel"
SCN_PROGRESS = "scn-progress"
SCN_STATUS = "scn-status"
SCN_RESULT = "scn-result"
SCN_DELTAS = "scn-deltas"
SCN_CENTERS_GRID = "scn-centers-grid"
SCN_COMMUNES_GRID = "scn-communes-grid"


def scn_growth_doc(doc: str) -> dict:
    """Pattern-matching id of the extra growth input of one document type."""
    return {"type": "scn-growth-doc", "index": doc}


# forecasts and delay-risk drivers screen (/prevision)
FC_TABS = "fc-tabs"
FC_LEVEL = "fc-level"
FC_SERIES = "fc-series"
FC_DOC_TYPE = "fc-doc-type"
FC_HORIZON = "fc-horizon"
FC_CANCEL = "fc-cancel"
FC_PROGRESS = "fc-progress"
FC_PROGRESS_BOX = "fc-progress-box"
FC_READY = "fc-ready"
FC_MESSAGES = "fc-messages"
FC_CHART = "fc-chart"
FC_MODEL = "fc-model"
FC_ACCURACY = "fc-accuracy"
RISK_TARGET = "risk-target"
RISK_CANCEL = "risk-cancel"
RISK_PROGRESS = "risk-progress"
RISK_PROGRESS_BOX = "risk-progress-box"
RISK_MESSAGES = "risk-messages"
RISK_SUMMARY = "risk-summary"
RISK_ROC = "risk-roc"
RISK_IMPORTANCE = "risk-importance"
RISK_CONFUSION = "risk-confusion"
RISK_CAUTION = "risk-caution"
FC_ACCURACY_SERIES = "fc-accuracy-series"
FC_ACCURACY_LEVEL = "fc-accuracy-level"


def risk_confusion(model: str) -> str:
    """Id of one model's confusion matrix table."""
    return f"risk-confusion-{model}"
SCN_NAME = "scn-name"
SCN_AUTHOR = "scn-author"
SCN_SAVE = "scn-save"
SCN_SAVED = "scn-saved"
SCN_OPEN = "scn-open"
SCN_DUPLICATE = "scn-duplicate"
SCN_DELETE = "scn-delete"
SCN_DELETE_CONFIRM = "scn-delete-confirm"
SCN_UNDO = "scn-undo-delete"
SCN_DELETED = "scn-deleted"
SCN_SHARE_REVOKE = "scn-share-revoke"
SCN_LIBRARY_MSG = "scn-library-message"
SCN_SHARE = "scn-share"
SCN_STALE = "scn-stale"
SCN_EXPORT_CSV = "scn-export-csv"
SCN_EXPORT_XLSX = "scn-export-xlsx"
SCN_EXPORT_GEOJSON = "scn-export-geojson"
SCN_DOWNLOAD = "scn-download"
SCN_COMPARE_PICK = "scn-compare-pick"
SCN_COMPARE = "scn-compare"
SCN_COMPARE_OUT = "scn-compare-out"
SCN_COMPARE_EXPORT = "scn-compare-export"
SCN_CURVE_RUN = "scn-curve-run"
SCN_CURVE_MAX = "scn-curve-max"
SCN_CURVE = "scn-curve"
SCN_CURVE_PROGRESS = "scn-curve-progress"
SCN_DRAFT = "scn-draft"
SCN_DEMAND_SOURCE = "scn-demand-source"
SCN_FORECAST_WEEKS = "scn-forecast-weeks"


# import screen (/import)
IMP_DATASET = "imp-dataset"
IMP_ACTIVATE = "imp-activate"
IMP_REDIRECT = "imp-redirect"
IMP_UPLOAD = "imp-upload"
IMP_UPLOADS = "imp-uploads"
IMP_FILES = "imp-files"
IMP_CLEAR = "imp-clear"
IMP_UPLOAD_MESSAGES = "imp-upload-messages"
IMP_NAME = "imp-name"
IMP_LEVELS = "imp-levels"
IMP_ISSUES = "imp-issues"
IMP_ACTIVATE_AFTER = "imp-activate-after"
IMP_CHECK = "imp-check"
IMP_COMMIT = "imp-commit"
IMP_CANCEL = "imp-cancel"
IMP_PROGRESS = "imp-progress"
IMP_PROGRESS_BOX = "imp-progress-box"
IMP_REPORT = "imp-report"
IMP_PREVIEW_MAP = "imp-preview-map"
IMP_PREVIEW_TABLE = "imp-preview-table"
IMP_PARTIAL = "imp-partial"  # type of the "import anyway (partial join)" button
IMP_ROAD_REPORT = "imp-road-report"


def scn_forecast_poll(index: str) -> dict:
    """A timer on the scenario screen while its forecast demand is computed:
    ``"wait"`` ticks until it is ready, ``"done"`` once after (the map redraws)."""
    return {"type": "scn-forecast-poll", "index": index}


def imp_role(index: int) -> dict:
    """Pattern-matching id of the role dropdown of one uploaded file."""
    return {"type": "imp-role", "index": index}


def imp_column(index: int, field: str) -> dict:
    """Pattern-matching id of one column-mapping dropdown of one uploaded file."""
    return {"type": "imp-column", "index": index, "field": field}


def imp_mapping(index: int) -> dict:
    """The column mapping of uploaded file ``index``, redrawn when its role changes."""
    return {"type": "imp-mapping", "index": index}


def imp_partial(index: int = 0) -> dict:
    """Pattern-matching id of the "import anyway (partial join)" button.

    The button exists only in a report that offers it, so the callback listens to
    ``imp_partial(ALL)``, which may match nothing.
    """
    return {"type": IMP_PARTIAL, "index": index}


def imp_road_values(index: int) -> dict:
    """The class-mapping table of road file ``index``, redrawn when its class
    column changes."""
    return {"type": "imp-road-values", "index": index}


def imp_road_value(index: int, value: str) -> dict:
    """The road class chosen for one value of road file ``index``'s class column
    (the value travels in the id: it comes back from the browser, checked)."""
    return {"type": "imp-road-value", "index": index, "value": value}


def imp_rate(doc: str) -> dict:
    """Pattern-matching id of the yearly rate input of one document type."""
    return {"type": "imp-rate", "index": doc}
SCN_CLOSING_COST = "scn-closing-cost"
SCN_MODULE_SIZE = "scn-module-size"
SCN_MODULE_COST = "scn-module-cost"
SCN_DOCS = "scn-doc-types"
SCN_ZONE = "scn-zone"
SCN_COLOR_BY = "scn-color-by"
SCN_PERIOD = "scn-period"


# user management and audit log (/admin)
ADM_USERS = "adm-users"
ADM_MESSAGE = "adm-message"
ADM_SECRET = "adm-secret"
ADM_NEW_USERNAME = "adm-new-username"
ADM_NEW_FULL_NAME = "adm-new-full-name"
ADM_NEW_ROLE = "adm-new-role"
ADM_ADD = "adm-add"
ADM_CHANGED = "adm-changed"
ADM_AUDIT = "adm-audit"
ADM_AUDIT_REFRESH = "adm-audit-refresh"
ADM_AUDIT_EXPORT = "adm-audit-export"
ADM_AUDIT_DOWNLOAD = "adm-audit-download"


def adm_role(user_id: int) -> dict:
    """Pattern-matching id of the role picker of one user's row."""
    return {"type": "adm-role", "index": user_id}


def adm_set_role(user_id: int) -> dict:
    """Pattern-matching id of the button applying the picked role."""
    return {"type": "adm-set-role", "index": user_id}


def adm_toggle(user_id: int, action: str) -> dict:
    """Pattern-matching id of one user's ``disable`` (or ``enable``) button."""
    return {"type": "adm-toggle", "index": user_id, "action": action}


def adm_reset(user_id: int) -> dict:
    """Pattern-matching id of the reset-password button of one user."""
    return {"type": "adm-reset", "index": user_id}


# account page (/compte)
ACC_TOKEN_NAME = "acc-token-name"
ACC_TOKEN_CREATE = "acc-token-create"
ACC_TOKENS = "acc-tokens"
ACC_MESSAGE = "acc-message"
ACC_SECRET = "acc-secret"


def acc_revoke(token_id: int) -> dict:
    """Pattern-matching id of the revoke button of one API token."""
    return {"type": "acc-revoke", "index": token_id}


# decision briefs (layouts/briefs.py, callbacks/briefs.py): a button, a progress line,
# a message and a download on the main screen, a saved scenario and a comparison
BRIEF_KINDS = ("area", "scenario", "comparison")


def brief(kind: str, part: str) -> str:
    """Id of a brief control: ``part`` is button, progress, message or download."""
    return f"brief-{kind}-{part}"

# road network speeds (/reseau-routier)
RP_SAVE = "rp-save"
RP_RESET = "rp-reset"
RP_MESSAGE = "rp-message"
RP_STATUS = "rp-status"


def rp_field(key: str) -> dict:
    """Pattern-matching id of one speed-profile value (its dotted key, e.g.
    ``road_kmh.motorised.rainy.track.unpaved``, checked when it comes back)."""
    return {"type": "rp-field", "key": key}
