// Charts drawn once they come into view. A clientside callback
// (callbacks/overview.py) calls dashapp.whenVisible for a chart below the map:
// it sets the store `store` to true as soon as the element `target` (a box around
// the chart, kept while the chart's own element is replaced) comes within
// 300 px of the screen, which lets the server callback drawing that chart run.
// Until then the browser spends its time on what is on screen (the map).
//
// Its inputs are the contents above the chart (map, cards...): watching starts
// once they are all filled (or after 15 s, whatever came), since before they
// arrive the page is shorter and the chart would seem to be on screen.
(function () {
  const MARGIN = "300px";
  const FALLBACK_MS = 15000;
  const filled = (value) =>
    value !== null && value !== undefined && !(Array.isArray(value) && !value.length);

  function watch(target, store) {
    const node = document.getElementById(target);
    if (!node || node.dataset.dashappWatched) {
      return;
    }
    node.dataset.dashappWatched = "1";
    const mark = () => window.dash_clientside.set_props(store, { data: true });
    if (!("IntersectionObserver" in window)) {
      mark();
      return;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          observer.disconnect();
          mark();
        }
      },
      { rootMargin: MARGIN }
    );
    observer.observe(node);
  }

  // whenVisible(above..., target, store): `above` are the callback's inputs
  function whenVisible(...args) {
    const store = args.pop();
    const target = args.pop();
    if (args.every(filled)) {
      // after this render: the contents just arrived are then in the page
      window.requestAnimationFrame(() => watch(target, store));
    } else {
      window.setTimeout(() => watch(target, store), FALLBACK_MS);
    }
    return window.dash_clientside.no_update;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.dashapp = Object.assign({}, window.dash_clientside.dashapp, {
    whenVisible: whenVisible,
  });
})();
