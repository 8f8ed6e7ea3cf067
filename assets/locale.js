// The date pickers (Dash 4 draws them with date-fns) in the page's language.
// date-fns takes its words from a "locale" object; this one is built from the
// month and day names the server writes in the page (#dashapp-locale, from the
// catalogue dashapp/i18n.py), so this file holds no words of its own.
// The picker reads window.dateFns.locale each time it draws: with one entry,
// it uses it whatever the browser's own language.
(function () {
  const node = document.getElementById("dashapp-locale");
  if (!node) {
    return;
  }
  let names;
  try {
    names = JSON.parse(node.textContent);
  } catch (e) {
    return;
  }
  const initial = (word) => word.charAt(0).toUpperCase();
  const width = (options) => (options && options.width) || "wide";
  // a parser of one name among `list`, in date-fns's match shape
  const matcher = (lists) =>
    function (text) {
      const lower = text.toLowerCase();
      for (const list of lists) {
        for (let i = 0; i < list.length; i++) {
          const name = list[i].toLowerCase();
          if (name && lower.startsWith(name)) {
            return { value: i, rest: text.slice(name.length) };
          }
        }
      }
      return null;
    };
  const number = function (text) {
    const found = /^\d+/.exec(text);
    return found ? { value: parseInt(found[0], 10), rest: text.slice(found[0].length) } : null;
  };
  const locale = {
    code: names.lang,
    localize: {
      ordinalNumber: (n) => String(n),
      era: () => "",
      quarter: (q) => String(q),
      month: function (m, options) {
        const w = width(options);
        if (w === "wide") {
          return names.months[m];
        }
        return w === "narrow" ? initial(names.months[m]) : names.shortMonths[m];
      },
      day: function (d, options) {
        const w = width(options);
        if (w === "wide") {
          return names.days[d];
        }
        if (w === "short") {
          return names.minDays[d];
        }
        return w === "narrow" ? initial(names.days[d]) : names.shortDays[d];
      },
      dayPeriod: (p) => (p === "pm" || p === "PM" ? "PM" : "AM"),
    },
    formatLong: {
      date: () => "dd/MM/yyyy",
      time: () => "HH:mm:ss",
      dateTime: () => "{{date}} {{time}}",
    },
    match: {
      ordinalNumber: number,
      era: () => null,
      quarter: number,
      month: matcher([names.months, names.shortMonths]),
      day: matcher([names.days, names.shortDays, names.minDays]),
      dayPeriod: () => null,
    },
    options: { weekStartsOn: 1, firstWeekContainsDate: 4 },
  };
  window.dateFns = window.dateFns || {};
  window.dateFns.locale = { [names.lang]: locale };

  // The pickers' buttons carry English labels (read aloud by screen readers):
  // each is replaced by the catalogue's, as the pickers draw them.
  const labels = names.labels || {};
  const relabel = function (node) {
    const text = labels[node.getAttribute("aria-label")];
    if (text) {
      node.setAttribute("aria-label", text);
    }
  };
  // only what was added is looked at (a chart's redraw adds many nodes)
  new MutationObserver(function (changes) {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.nodeType === 1) {
          if (node.hasAttribute("aria-label")) {
            relabel(node);
          }
          node.querySelectorAll("[aria-label]").forEach(relabel);
        }
      }
    }
  }).observe(document.body, { childList: true, subtree: true });
})();
