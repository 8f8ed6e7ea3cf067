"""The app's colours, chosen once for readers with a colour-vision deficiency.

No red/green pair anywhere: sequential scales are cividis-like (light yellow to dark
blue, used with the worse end dark), diverging ones blue/orange, site states and
clusters from the Okabe-Ito palette. Plain constants, no Dash: the screen's maps
(:mod:`layouts.maps`) and the briefs' printed maps (``dashapp.services.brief_maps``)
both read them. Scales are plotly's ``[[position, colour], ...]`` lists;
:func:`matplotlib_cmap` turns one into a matplotlib colour map.
"""

from __future__ import annotations

CONTEXT_COLOR = "#cfd6dc"
HALO_COLOR = "#1f1f1f"
HALO_PX = 4
# a site's colour, by its state in a plan or its status in a result (Okabe-Ito)
SITE_COLORS = {
    "existing": "#0072B2",
    "kept": "#0072B2",
    "locked": "#56B4E9",
    "closed": "#E69F00",
    "candidate": "#FFFFFF",
    "not_opened": "#FFFFFF",
    "forbidden": "#000000",
    "opened": "#CC79A7",
}
# sites that are (or will be) open are drawn larger
OPEN_STATES = ("existing", "kept", "locked", "opened")
SITE_SIZES = {"open": 13, "other": 9, "not_opened": 6}
# the states a plan can set, and those a result gives, in legend order
PLAN_STATES = ("existing", "locked", "closed", "candidate", "forbidden")
RESULT_STATES = ("kept", "opened", "closed", "not_opened")
# the symbols MapLibre draws without a sprite sheet (the offline style has none)
SITE_SYMBOL = "circle"
PROPOSED_COLOR = "#FFFFFF"  # segmentation's proposed sites: white on any cluster
CENTER_COLOR = "#0072B2"  # an existing center drawn without a state
UNSERVED_COLOR = "#D55E00"

# sequential, low to high: light yellow to dark blue (cividis-like); used with the
# worse end dark (distance: far is dark)
SEQUENTIAL = [
    [0.0, "#fde737"],
    [0.25, "#c4b56c"],
    [0.5, "#7f7c75"],
    [0.75, "#3e4a6b"],
    [1.0, "#00204c"],
]
SEQUENTIAL_DARK_TO_LIGHT = [[1.0 - p, c] for p, c in reversed(SEQUENTIAL)]
# neutral quantities (population): light to dark blue
LIGHT_TO_DARK = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]
# diverging, low to high: blue (shorter, under-used) - white - orange (longer, over)
DIVERGING = [
    [0.0, "#2166ac"],
    [0.25, "#92c5de"],
    [0.5, "#f7f7f7"],
    [0.75, "#fdb863"],
    [1.0, "#b35806"],
]
# centers by utilisation (%): 100 % (full) at the middle of the diverging scale
UTIL_SCALE = DIVERGING
UTIL_RANGE = (40.0, 160.0)
# categorical (clusters): Okabe-Ito, then two greys and browns past eight
CATEGORICAL = [
    "#0072B2",
    "#E69F00",
    "#56B4E9",
    "#CC79A7",
    "#009E73",
    "#F0E442",
    "#D55E00",
    "#000000",
    "#999999",
    "#8c564b",
]


def matplotlib_cmap(scale: list, name: str = "palette"):
    """A plotly-style scale as a matplotlib colour map (for printed maps)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(name, [(p, c) for p, c in scale])
