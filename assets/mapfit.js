// Maps fitted to their area at the size they have in this window, and the view
// a map shows told to Dash after every resize.
//
// The fit. The server draws a map at a view computed for a nominal size (the
// map in a 1280 px window) and puts the area to show in the figure's
// layout.meta.mapfit (layouts/maps.py, fit_view): {bounds: [west, south, east,
// north], view: {center, zoom}, padding (px)}. Whenever a map shows exactly that
// first view (a new figure, a move to a new selection), or the fit made here and
// the map was resized, and never a view the user zoomed or panned to, this moves
// it to MapLibre's own fit of the area (cameraForBounds) in the map's real box:
// the whole area shows on a phone as on a wide screen. plotly.js's `fitbounds`
// does not do it (it fits scatter points, and leaves out any map holding a
// choropleth: all of ours), and its `bounds` only limit panning.
//
// The view after a resize. The server reads the zoom a map shows from its
// Graph's relayoutData (layouts/maps.py, shown_zoom; the overview redraws the
// units in view from it). plotly reports a resize as {autosize: true}, which
// would replace there the report of the view shown. This hands the Graph, in
// that report's place, the view the map shows once resized: {map.center,
// map.zoom} for the server's first view or this fit (or the fit on its way),
// and for a view the user moved to, plotly's own report of a pan: map.center,
// map.zoom, map.bearing, map.pitch and map._derived.coordinates (the corners
// of the resized map), which geo.display.map_view reads. It only reads the
// view: a view the user moved to stays as it is. The report is replaced in
// plotly's event (gd.emit), which the Graph turns into relayoutData, rather
// than sent after it: Plotly.relayout's event holds only the keys it sets (no
// corners) and draws the map again; dash_clientside.set_props sets
// relayoutData too, but as a second report, so a map whose relayoutData is a
// callback's input (the overview's) would ask the server twice per resize.
(function () {
  const ZOOM_EPS = 1e-3;
  const DEG_EPS = 1e-4;

  function near(a, b, eps) {
    return Math.abs(a - b) < eps;
  }

  // views are {center: {lon, lat}, zoom}
  function same(a, b) {
    return Boolean(
      a &&
        b &&
        a.center &&
        b.center &&
        near(a.zoom, b.zoom, ZOOM_EPS) &&
        near(a.center.lon, b.center.lon, DEG_EPS) &&
        near(a.center.lat, b.center.lat, DEG_EPS)
    );
  }

  function viewOf(map) {
    const center = map.getCenter();
    return { center: { lon: center.lng, lat: center.lat }, zoom: map.getZoom() };
  }

  // whether MapLibre's `map` shows `view`
  function shows(map, view) {
    return same(viewOf(map), view);
  }

  function fitReport(view) {
    const { lon, lat } = view.center;
    return { "map.center": { lon, lat }, "map.zoom": view.zoom };
  }

  function fit(gd) {
    const meta = gd.layout && gd.layout.meta && gd.layout.meta.mapfit;
    const full = gd._fullLayout && gd._fullLayout.map;
    const map = full && full._subplot && full._subplot.map;
    if (!meta || !map || !window.Plotly) {
      return;
    }
    if (!map.isStyleLoaded()) {
      // plotly redraws the map's layers on a relayout: not before its style is in
      if (!gd._dashappFitWaits) {
        gd._dashappFitWaits = true;
        map.once("idle", () => {
          gd._dashappFitWaits = false;
          fit(gd);
        });
      }
      return;
    }
    // the server's first view, or this fit (then the map was resized: a phone
    // turned, a wider window); never a view the user moved to
    if (!shows(map, meta.view) && !shows(map, gd._dashappFitted)) {
      return;
    }
    const [west, south, east, north] = meta.bounds;
    const camera = map.cameraForBounds(
      [
        [west, south],
        [east, north],
      ],
      { padding: meta.padding || 0 }
    );
    if (!camera || near(camera.zoom, map.getZoom(), ZOOM_EPS)) {
      return; // the first view fits already: nothing to move
    }
    const to = camera.center;
    gd._dashappFitted = { center: { lon: to.lng, lat: to.lat }, zoom: camera.zoom };
    // into gd.layout, the figure Dash keeps: a later patch of the map's data
    // leaves this view; a new figure at the first view is fitted again
    window.Plotly.relayout(gd, fitReport(gd._dashappFitted));
  }

  // The view a map shows, as its relayoutData tells it (see the top), or null
  // for a graph that is not one of these maps.
  function shownView(gd) {
    const meta = gd.layout && gd.layout.meta && gd.layout.meta.mapfit;
    const full = gd._fullLayout && gd._fullLayout.map;
    const map = full && full._subplot && full._subplot.map;
    if (!meta || !map) {
      return null;
    }
    const now = viewOf(map);
    const next = gd.layout.map; // plotly's layout: what its drawing will show
    if (!same(now, next) && same(next, gd._dashappFitted)) {
      // a fit on its way (its relayout drawing): it moves the map in a moment
      // and reports it with this same report
      return fitReport(gd._dashappFitted);
    }
    if (same(now, meta.view) || same(now, gd._dashappFitted)) {
      return fitReport(now);
    }
    // as plotly reports the end of a pan: the canvas' corners, NW, NE, SE, SW
    const canvas = map.getCanvas();
    const [w, h] = [canvas.clientWidth, canvas.clientHeight];
    const corners = [
      [0, 0],
      [w, 0],
      [w, h],
      [0, h],
    ].map((p) => map.unproject(p).toArray());
    return {
      "map.center": now.center,
      "map.zoom": now.zoom,
      "map.bearing": map.getBearing(),
      "map.pitch": map.getPitch(),
      "map._derived": { coordinates: corners },
    };
  }

  const RESIZE_KEYS = ["autosize", "width", "height"];

  function resized(change) {
    const keys = Object.keys(change || {});
    return keys.length > 0 && keys.every((k) => RESIZE_KEYS.includes(k));
  }

  function watch(gd) {
    const emit = gd.emit;
    // the mark is on plotly's emit: a graph plotly set up again is watched again
    if (typeof gd.on !== "function" || typeof emit !== "function" || emit.dashappMapfit) {
      return;
    }
    const tell = function (event, data) {
      if (event === "plotly_relayout" && resized(data)) {
        return emit.call(this, event, shownView(gd) || data);
      }
      return emit.call(this, event, data);
    };
    tell.dashappMapfit = true;
    gd.emit = tell;
    gd.on("plotly_afterplot", () => fit(gd));
    fit(gd);
  }

  let queued = false;
  function scan() {
    queued = false;
    document.querySelectorAll(".js-plotly-plot").forEach(watch);
  }
  new MutationObserver(() => {
    if (!queued) {
      queued = true;
      window.requestAnimationFrame(scan);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
