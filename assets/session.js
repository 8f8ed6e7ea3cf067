// When the session has ended (signed out elsewhere, expired, password reset), the
// server answers Dash's requests with 401: go to the sign-in page, then come back.
// Behind a proxy at a sub-path (/plan/), every address starts with Dash's
// requests_pathname_prefix; "next" is a path from the app's own root.
(function () {
  const original = window.fetch;
  function prefix() {
    const node = document.getElementById("_dash-config");
    try {
      return (node && JSON.parse(node.textContent).requests_pathname_prefix) || "/";
    } catch (e) {
      return "/";
    }
  }
  window.fetch = function (...args) {
    return original.apply(this, args).then(function (response) {
      const url = typeof args[0] === "string" ? args[0] : (args[0] && args[0].url) || "";
      if (response.status === 401 && url.indexOf("_dash-") !== -1) {
        const root = prefix();
        let here = window.location.pathname + window.location.search;
        if (here.startsWith(root)) {
          here = "/" + here.slice(root.length);
        }
        window.location.assign(root + "login?next=" + encodeURIComponent(here));
      }
      return response;
    });
  };
})();
