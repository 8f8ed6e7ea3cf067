"""The interface language in the widgets that draw their own texts.

Plotly charts, AG Grid tables and the date pickers have their own words (toolbar
tooltips, pagination, month names) and their own way of writing numbers. Each
takes them from the one catalogue (:mod:`dashapp.i18n`) through this module, so
that a French screen says « janv. 2025 », « 12 345,6 » and « Page 1 sur 3 ».
Everything is served with the page: nothing is fetched at run time.
"""

from __future__ import annotations

from dashapp.config import LANGUAGES
from dashapp.i18n import STRINGS, t

# plotly.js looks its texts up by their English wording (plotly.js 4.1, the
# version the installed plotly package serves); the catalogue key of each
PLOTLY_TEXTS = {
    "Zoom": "plotly.zoom",
    "Zoom in": "plotly.zoom_in",
    "Zoom out": "plotly.zoom_out",
    "Pan": "plotly.pan",
    "Box Select": "plotly.box_select",
    "Lasso Select": "plotly.lasso_select",
    "Autoscale": "plotly.autoscale",
    "Reset": "plotly.reset",
    "Reset axes": "plotly.reset_axes",
    "Reset view": "plotly.reset_view",
    "Reset views": "plotly.reset_views",
    "Download plot": "plotly.download",
    "Download plot as a PNG": "plotly.download_png",
    "Download plot as JSON": "plotly.download_json",
    "Preparing image - this may take a few seconds": "plotly.preparing",
    "Image download succeeded": "plotly.image_done",
    "JSON download succeeded": "plotly.json_done",
    "Sorry, there was a problem downloading your image!": "plotly.image_failed",
    "Sorry, there was a problem downloading your JSON file!": "plotly.json_failed",
    "Show closest data on hover": "plotly.closest",
    "Compare data on hover": "plotly.compare",
    "Toggle show closest data on hover": "plotly.toggle_closest",
    "Toggle Spike Lines": "plotly.spikes",
    "Double-click to zoom back out": "plotly.double_click",
    "Double-click on legend to isolate one trace": "plotly.legend_isolate",
    "trace": "plotly.trace",
    "lat:": "plotly.lat",
    "lon:": "plotly.lon",
    "min:": "plotly.min",
    "max:": "plotly.max",
    "mean:": "plotly.mean",
    "median:": "plotly.median",
    "q1:": "plotly.q1",
    "q3:": "plotly.q3",
}

# the labels Dash 4's date pickers write in English (aria-label), by catalogue key
PICKER_TEXTS = {
    "Previous month": "cal.previous_month",
    "Next month": "cal.next_month",
    "Close calendar": "cal.close",
    "Clear date": "cal.clear",
    "Clear Dates": "cal.clear_dates",
}

# d3 time formats of each language (codes, not words: the words are the catalogue's)
DATE_FORMATS = {
    "fr": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "year": "%Y",
        "month": "%b %Y",
        "dayMonth": "%-d %b",
        "dayMonthYear": "%-d %b %Y",
    },
    "en": {
        "dateTime": "%a %b %e %X %Y",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "year": "%Y",
        "month": "%b %Y",
        "dayMonth": "%b %-d",
        "dayMonthYear": "%b %-d, %Y",
    },
}

# the thousands separator is the narrow no-break space of layouts.figures.fmt
DECIMAL = {"fr": ",", "en": "."}
THOUSANDS = {"fr": "\u202f", "en": ","}

#: AG Grid's localeText keys the catalogue translates (``grid.<key>``)
GRID_KEYS = tuple(k.removeprefix("grid.") for k in STRINGS if k.startswith("grid."))


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "fr"


def separators(lang: str) -> str:
    """Plotly's ``layout.separators``: decimal mark then thousands separator.

    Examples
    --------
    >>> separators("fr") == ",\u202f", separators("en")
    (True, '.,')
    """
    lang = _lang(lang)
    return DECIMAL[lang] + THOUSANDS[lang]


def calendar(lang: str) -> dict:
    """Month and day names of ``lang``, days from Sunday, as the catalogue has them,
    and the date pickers' button labels (``labels``, by their English wording).

    Examples
    --------
    >>> calendar("fr")["months"][0], calendar("en")["shortDays"][1]
    ('janvier', 'Mon')
    """
    lang = _lang(lang)
    return {
        "months": [t(f"cal.month.{m}", lang) for m in range(1, 13)],
        "shortMonths": [t(f"cal.month_short.{m}", lang) for m in range(1, 13)],
        "days": [t(f"cal.day.{d}", lang) for d in range(7)],
        "shortDays": [t(f"cal.day_short.{d}", lang) for d in range(7)],
        "minDays": [t(f"cal.day_min.{d}", lang) for d in range(7)],
        "labels": {en: t(key, lang) for en, key in PICKER_TEXTS.items()},
    }


def plotly_locale(lang: str) -> dict:
    """A plotly.js locale (``dictionary`` and ``format``) from the catalogue."""
    lang = _lang(lang)
    names = calendar(lang)
    return {
        "dictionary": {en: t(key, lang) for en, key in PLOTLY_TEXTS.items()},
        "format": {
            "days": names["days"],
            "shortDays": names["shortDays"],
            "months": names["months"],
            "shortMonths": names["shortMonths"],
            "periods": ["AM", "PM"],
            "decimal": DECIMAL[lang],
            "thousands": THOUSANDS[lang],
            "grouping": [3],
            "currency": ["", ""],
            **DATE_FORMATS[lang],
        },
    }


def graph_config(lang: str, **options) -> dict:
    """The ``config`` of every ``dcc.Graph``: the language, and nothing that uploads.

    The locale goes with the figure (plotly.js's ``locales`` option), so month
    names on date axes, number separators and toolbar tooltips follow ``lang``.
    The Plotly logo and the "share to Plotly Cloud" button are removed: an
    offline government tool offers no upload. ``options`` adds or overrides
    settings (``scrollZoom=True``, ``displayModeBar=False``).

    Examples
    --------
    >>> config = graph_config("fr", scrollZoom=True)
    >>> config["locale"], config["displaylogo"], config["showSendToCloud"]
    ('fr', False, False)
    >>> config["locales"]["fr"]["format"]["months"][7]
    'août'
    """
    lang = _lang(lang)
    return {
        "displaylogo": False,
        "showSendToCloud": False,
        "showLink": False,
        "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud"],
        "locale": lang,
        "locales": {lang: plotly_locale(lang)},
        **options,
    }


def grid_locale_text(lang: str) -> dict[str, str]:
    """AG Grid's ``localeText``: pagination, filter menus and overlays in ``lang``.

    Examples
    --------
    >>> grid_locale_text("fr")["of"], grid_locale_text("en")["nextPage"]
    ('sur', 'Next Page')
    """
    lang = _lang(lang)
    return {key: t(f"grid.{key}", lang) for key in GRID_KEYS}


def grid_number(decimals: int, lang: str, suffix: str = "", missing: str = "") -> dict:
    """A column's ``valueFormatter`` writing numbers as ``lang`` does (12 345,6).

    An empty cell reads ``missing`` (``"n.d."``); ``suffix`` follows the number
    (``" %"``).

    Examples
    --------
    >>> "d3.formatLocale(" in grid_number(0, "fr")["function"]
    True
    """
    lang = _lang(lang)
    spec = f",.{int(decimals)}f"
    locale = (
        f'{{"decimal": "{DECIMAL[lang]}", "thousands": "{THOUSANDS[lang]}", '
        f'"grouping": [3], "currency": ["", ""]}}'
    )
    tail = f" + {suffix!r}" if suffix else ""
    return {
        "function": f"params.value == null || params.value === '' ? {missing!r} : "
        f"d3.formatLocale({locale}).format('{spec}')(params.value){tail}"
    }
