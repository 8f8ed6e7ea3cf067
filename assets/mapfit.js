// Maps fitted to their area at the size they have in this window.
//
// The server draws a map at a view computed for a nominal size (the map in a
// 1280 px window) and puts the area to show in the figure's layout.meta.mapfit
// (layouts/maps.py, fit_view): {bounds: [west, south, east, north],
// view: {center, zoom}, padding (px)}. Whenever a map shows exactly that first
// view (a new figure, a move to a new selection), or the fit made here and the
// map was resized, and never a view the user zoomed or panned to, this moves it
// to MapLibre's own fit of the area (cameraForBounds) in the map's real box: the
// whole area shows on a phone as on a wide screen. plotly.js's `fitbounds` does
// not do it (it fits scatter points, and leaves out any map holding a
// choropleth: all of ours), and its `bounds` only limit panning.
(function () {
  const ZOOM_EPS = 1e-3;
  const DEG_EPS = 1e-4;

  function near(a, b, eps) {
    return Math.abs(a - b) < eps;
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
    const center = map.getCenter();
    const zoom = map.getZoom();
    const shows = (view) =>
      view &&
      near(zoom, view.zoom, ZOOM_EPS) &&
      near(center.lng, view.center.lon, DEG_EPS) &&
      near(center.lat, view.center.lat, DEG_EPS);
    // the server's first view, or this fit (then the map was resized: a phone
    // turned, a wider window); never a view the user moved to
    if (!shows(meta.view) && !shows(gd._dashappFitted)) {
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
    if (!camera || near(camera.zoom, zoom, ZOOM_EPS)) {
      return; // the first view fits already: nothing to move
    }
    const to = camera.center;
    gd._dashappFitted = { center: { lon: to.lng, lat: to.lat }, zoom: camera.zoom };
    // into gd.layout, the figure Dash keeps: a later patch of the map's data
    // leaves this view; a new figure at the first view is fitted again
    window.Plotly.relayout(gd, {
      "map.center": { lon: to.lng, lat: to.lat },
      "map.zoom": camera.zoom,
    });
  }

  // The view shown, told again after a resize: plotly's report of a resize
  // ({autosize: true}) replaces the fit's in the graph's relayoutData, where the
  // server reads the zoom a map shows (layouts/maps.py, shown_zoom). Only the
  // server's first view or this fit; a view the user moved to is theirs.
  function report(gd) {
    const map = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    const meta = gd.layout && gd.layout.meta && gd.layout.meta.mapfit;
    if (!meta || !map || !map.map || !window.Plotly) {
      return;
    }
    const center = map.map.getCenter();
    const zoom = map.map.getZoom();
    const shows = (view) =>
      view &&
      near(zoom, view.zoom, ZOOM_EPS) &&
      near(center.lng, view.center.lon, DEG_EPS) &&
      near(center.lat, view.center.lat, DEG_EPS);
    if (shows(meta.view) || shows(gd._dashappFitted)) {
      window.Plotly.relayout(gd, {
        "map.center": { lon: center.lng, lat: center.lat },
        "map.zoom": zoom,
      });
    }
  }

  const RESIZE_KEYS = ["autosize", "width", "height"];

  function watch(gd) {
    if (gd.dataset.dashappMapfit || typeof gd.on !== "function") {
      return;
    }
    gd.dataset.dashappMapfit = "1";
    gd.on("plotly_afterplot", () => fit(gd));
    gd.on("plotly_relayout", (change) => {
      const keys = Object.keys(change || {});
      if (keys.length && keys.every((k) => RESIZE_KEYS.includes(k))) {
        window.setTimeout(() => report(gd), 0);
      }
    });
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
