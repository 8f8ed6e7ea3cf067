"""Where a map's parts are drawn in the browser: its colour bars, its fitted area.

Each function takes the CSS selector of a box holding one map (``#scn-map``) and
returns None until what it checks holds, for :func:`tests.browser.waits.until`.
"""

from __future__ import annotations

# where the area the map is fitted to (layout.meta.mapfit) lies in MapLibre's box:
# [west, north, east, south] edges in px of the map, the map's width and height,
# the area's bounds
FITTED = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
const fit = gd && gd.layout.meta && gd.layout.meta.mapfit;
if (!sub || !sub.map || !sub.map.loaded() || !fit) return null;
const [w, s, e, n] = fit.bounds, map = sub.map, box = map.getContainer();
const nw = map.project([w, n]), se = map.project([e, s]);
return [[nw.x, nw.y, se.x, se.y], box.clientWidth, box.clientHeight, fit.bounds];"""

# [top, bottom, left, right] of each colour bar, of MapLibre's area and of the
# whole graph, in px of the page
BARS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const box = e => { const b = e.getBoundingClientRect();
                   return [b.top, b.bottom, b.left, b.right]; };
const map = gd && gd.querySelector('.maplibregl-map');
if (!map) return null;
return [[...gd.querySelectorAll('g.colorbar')].map(box), box(map), box(gd)];"""


def fitted(duo, selector: str):
    """The area fitted lies wholly inside the map and fills it along one side
    (its width or its height, less the padding): (edges, width, height, bounds)."""
    found = duo.driver.execute_script(FITTED, selector)
    if not found:
        return None
    (left, top, right, bottom), width, height, _ = found
    inside = left >= -1 and right <= width + 1 and top >= -1 and bottom <= height + 1
    fills = right - left >= 0.9 * (width - 24) or bottom - top >= 0.9 * (height - 24)
    return found if inside and fills else None


def bars_below(duo, selector: str, n: int):
    """The map's ``n`` colour bars lie under MapLibre's area, inside the graph:
    (bars, map box, graph box)."""
    found = duo.driver.execute_script(BARS, selector)
    if not found or len(found[0]) != n:
        return None
    bars, (_, map_bottom, _, _), (_, graph_bottom, left, right) = found
    below = all(
        map_bottom <= top and bottom <= graph_bottom + 1 and left - 1 <= b_left
        and b_right <= right + 1
        for top, bottom, b_left, b_right in bars
    )  # fmt: skip
    return found if below else None


def viewport(duo, width: int, height: int) -> None:
    """The page exactly ``width`` px wide, as on a phone below 600 px (a window
    has a minimum width, about 500 px)."""
    duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1,
         "mobile": width < 600},
    )  # fmt: skip
