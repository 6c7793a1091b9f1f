/* simulacra report page.
 *
 * Reads the run data embedded in the page (or, in the live viewer, fetched from the
 * page's own server) and draws it. Every string that comes from the data enters the
 * page as textContent or as the value of a harmless attribute (title, value, aria-*),
 * never as markup: nothing from the data is parsed as HTML, and no link or image is
 * ever built from it.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var PAGE_SIZE = 50;
  var OUTCOMES = ["success", "failure", "unscored", "error"];
  var ATTRIBUTES = new Set([
    "id", "title", "type", "value", "role", "tabindex", "for", "name", "placeholder",
    "colspan", "selected", "disabled", "spellcheck", "autocomplete", "aria-label",
    "aria-selected", "aria-current", "aria-live", "aria-hidden", "open", "lang",
  ]);

  // ---------------------------------------------------------------- DOM helpers

  function add(node, children) {
    for (var i = 0; i < children.length; i++) {
      var child = children[i];
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) { add(node, child); continue; }
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function setProps(node, props) {
    if (!props) return;
    Object.keys(props).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "class") node.setAttribute("class", value);
      else if (key === "text") node.textContent = String(value);
      else if (key === "style") {
        Object.keys(value).forEach(function (p) { node.style.setProperty(p, value[p]); });
      } else if (key === "data") {
        Object.keys(value).forEach(function (d) { node.dataset[d] = String(value[d]); });
      } else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else if (ATTRIBUTES.has(key)) node.setAttribute(key, value === true ? "" : String(value));
      else throw new Error("attribute not allowed: " + key);
    });
  }

  function h(tag, props) {
    var node = document.createElement(tag);
    setProps(node, props);
    return add(node, Array.prototype.slice.call(arguments, 2));
  }

  function sv(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined) return;
      if (key === "text") node.textContent = String(value);
      else node.setAttribute(key, String(value));
    });
    return add(node, Array.prototype.slice.call(arguments, 2));
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function byId(id) { return document.getElementById(id); }

  // ---------------------------------------------------------------- formatting

  function isNum(x) { return typeof x === "number" && isFinite(x); }
  function fmtInt(x) { return isNum(x) ? Math.round(x).toLocaleString("en-US") : "—"; }
  function fmtPct(x, digits) {
    return isNum(x) ? (x * 100).toFixed(digits === undefined ? 1 : digits) + "%" : "—";
  }
  function fmtNum(x, digits) {
    if (!isNum(x)) return "—";
    if (digits !== undefined) return x.toFixed(digits);
    if (Number.isInteger(x)) return x.toLocaleString("en-US");
    var a = Math.abs(x);
    return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toPrecision(2);
  }
  function compact(x) {
    if (!isNum(x)) return "—";
    var a = Math.abs(x);
    if (a >= 1e9) return (x / 1e9).toFixed(1) + "B";
    if (a >= 1e6) return (x / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (x / 1e3).toFixed(0) + "k";
    if (a >= 1e3) return (x / 1e3).toFixed(1) + "k";
    return String(Math.round(x));
  }
  /* A zero-width interval is no measure of uncertainty: a bootstrap over a few groups
     that all gave the same result cannot vary. Say so instead of printing "0% – 0%". */
  function degenerate(e) {
    return !!e && isNum(e.low) && isNum(e.high) && Math.abs(e.high - e.low) < 1e-12;
  }
  function fmtCI(e, format, unit) {
    format = format || fmtPct;
    if (!e || !isNum(e.low) || !isNum(e.high)) return "";
    if (degenerate(e)) {
      var n = isNum(e.n) ? plural(e.n, unit || "task") : "the " + (unit || "task") + "s";
      return "no interval: " + (isNum(e.n) && e.n < 10 ? "too few " + (unit || "task") + "s (" + n + "), all with the same result"
        : "every one of " + n + " gave the same result");
    }
    var level = isNum(e.level) ? Math.round(e.level * 100) : 95;
    return level + "% CI " + format(e.low) + " – " + format(e.high);
  }
  function ciLine(e, format, unit) {
    var text = fmtCI(e, format, unit);
    return text ? h("div", { class: "ci" + (degenerate(e) ? " degenerate" : ""), data: { ci: degenerate(e) ? "degenerate" : "interval" }, text: text }) : null;
  }
  function fmtDelta(d, pct) {
    if (!isNum(d)) return "—";
    var a = Math.abs(d);
    var text = pct ? (a * 100).toFixed(1) + " pts" : Number.isInteger(d) ? fmtInt(a) : fmtNum(a, a >= 100 ? 0 : 3);
    if (/^0(\.0+)?( pts)?$/.test(text)) return text;
    return (d > 0 ? "+" : "−") + text;
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return fmtNum(v);
    if (typeof v === "string") return v;
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (Array.isArray(v)) return v.slice(0, 12).map(fmtValue).join(", ") + (v.length > 12 ? ", …" : "");
    return Object.keys(v).slice(0, 8).map(function (k) { return k + ": " + fmtValue(v[k]); }).join(" · ");
  }
  function clock(date) { return date.toTimeString().slice(0, 8); }
  function plural(n, word) { return fmtInt(n) + " " + word + (n === 1 ? "" : "s"); }

  // ---------------------------------------------------------------- state

  var S = {
    data: null,
    runs: {},
    order: [],
    chunkSource: null,
    chunkCache: new Map(),
    run: "a",
    filters: {},
    pages: {},
    listCache: {},
    attr: {},
    pairFilter: { relation: "all", persona: "", task: "" },
    pairPage: 0,
    version: null,
    live: null,
    liveOk: true,
    updated: null,
  };
  var F = {};

  function setData(data, chunkSource, version) {
    S.data = data;
    S.chunkSource = chunkSource;
    S.chunkCache = new Map();
    S.listCache = {};
    S.version = version === undefined ? data.version : version;
    S.updated = new Date();
    data.fields.forEach(function (name, i) { F[name] = i; });
    S.runs = {};
    S.order = [];
    data.runs.forEach(function (run) {
      S.runs[run.key] = prepareRun(run);
      S.order.push(run.key);
      if (!S.filters[run.key]) S.filters[run.key] = emptyFilters();
      if (S.pages[run.key] === undefined) S.pages[run.key] = 0;
    });
    if (!S.runs[S.run]) S.run = S.order[0];
  }

  function emptyFilters() {
    return { persona: "", task: "", suite: "", outcome: "", guard: "", feedback: "", q: "" };
  }

  function str(x) { return typeof x === "string" ? x : x === null || x === undefined ? "" : String(x); }

  function prepareRun(run) {
    var personaNames = run.personas.map(function (p) { return str(p && p.name); });
    var taskIds = run.tasks.map(function (t) { return str(t && t.id); });
    var taskSuites = run.tasks.map(function (t) { return str(t && t.suite); });
    var personas = new Map(), tasks = new Map(), suites = new Set(), guards = new Set(), modes = new Set();
    var withFeedback = 0, withSignals = 0;
    run.rows.forEach(function (row) {
      var p = row[F.persona];
      var name = personaNames[p];
      if (!personas.has(name)) personas.set(name, run.personas[p] || {});
      tasks.set(taskIds[row[F.task]], true);
      if (taskSuites[row[F.task]]) suites.add(taskSuites[row[F.task]]);
      (row[F.guard_kinds] || []).forEach(function (g) { guards.add(g); });
      if (row[F.mode]) modes.add(row[F.mode]);
      if (row[F.feedback] > 0) withFeedback++;
      if (row[F.signals] > 0) withSignals++;
    });
    run.personaNames = personaNames;
    run.taskIds = taskIds;
    run.taskSuites = taskSuites;
    run.personaOptions = Array.from(personas.keys()).sort().map(function (name) {
      var p = personas.get(name);
      var shown = str(p.display_name);
      return { value: name, label: shown && shown !== name ? shown + " (" + name + ")" : name };
    });
    run.taskOptions = Array.from(tasks.keys()).sort();
    run.suiteOptions = Array.from(suites).sort();
    run.guardOptions = Array.from(guards).sort();
    run.modeOptions = Array.from(modes).sort();
    run.withFeedback = withFeedback;
    run.withSignals = withSignals;
    return run;
  }

  function runLabel(run) { return S.order.length > 1 ? run.key.toUpperCase() + " · " + run.name : run.name; }
  function personaOf(run, index) { return run.personas[run.rows[index][F.persona]] || {}; }
  function taskOf(run, index) { return run.tasks[run.rows[index][F.task]] || {}; }
  function personaLabel(p) {
    var name = str(p.name), shown = str(p.display_name);
    return shown || name || "persona";
  }

  // ---------------------------------------------------------------- transcripts

  function chunkText(key, i) { return S.chunkSource(key, i); }

  function inflate(base64) {
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot decompress the transcripts"));
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }

  function loadChunk(run, i) {
    var cacheKey = run.key + ":" + i;
    if (!S.chunkCache.has(cacheKey)) {
      var text = chunkText(run.key, i);
      var promise;
      if (text === null || text === undefined) promise = Promise.reject(new Error("transcript data missing"));
      else if (run.encoding === "gzip") promise = inflate(text).then(JSON.parse);
      else promise = Promise.resolve().then(function () { return JSON.parse(text); });
      S.chunkCache.set(cacheKey, promise);
    }
    return S.chunkCache.get(cacheKey);
  }

  function episodeDetail(run, index) {
    var size = run.chunk_size || 100;
    return loadChunk(run, Math.floor(index / size)).then(function (chunk) {
      return chunk[index % size] || {};
    });
  }

  // ---------------------------------------------------------------- routing

  function route() {
    var parts = location.hash.replace(/^#\/?/, "").split("/");
    var name = parts[0] || "overview";
    if (name === "episode" && S.runs[parts[1]]) {
      var index = parseInt(parts[2], 10);
      if (index >= 0 && index < S.runs[parts[1]].rows.length) return { name: name, run: parts[1], index: index };
      return { name: "episodes" };
    }
    if (name === "pair" && S.data.compare) {
      var n = parseInt(parts[1], 10);
      if (n >= 0 && n < S.data.compare.pairs.length) return { name: name, index: n };
      return { name: "compare" };
    }
    if (name === "section" && sectionOf(S.runs[S.run], parts[1])) return { name: name, id: parts[1] };
    if (["overview", "episodes", "feedback", "realism", "compare"].indexOf(name) < 0) name = "overview";
    return { name: name };
  }

  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  // ---------------------------------------------------------------- shell

  function render() {
    var r = route();
    if (r.name === "episode") S.run = r.run;
    var run = S.runs[S.run];
    if ((r.name === "feedback" && !run.feedback) || (r.name === "realism" && !run.fidelity) ||
        ((r.name === "compare" || r.name === "pair") && !S.data.compare) ||
        (r.name === "section" && !sectionOf(run, r.id))) {
      r = { name: "overview" };
    }
    var app = clear(byId("app"));
    app.appendChild(topbar(r));
    app.appendChild(tabs(r, run));
    var page = h("main", { class: "page", id: "page" });
    app.appendChild(page);
    var view;
    if (r.name === "episodes") view = viewEpisodes(run);
    else if (r.name === "episode") view = viewEpisode(run, r.index);
    else if (r.name === "feedback") view = viewFeedback(run);
    else if (r.name === "realism") view = viewRealism(run);
    else if (r.name === "compare") view = viewCompare();
    else if (r.name === "pair") view = viewPair(r.index);
    else if (r.name === "section") view = viewSection(sectionOf(run, r.id));
    else view = viewOverview(run);
    add(page, [view]);
    document.body.setAttribute("data-view", r.name);
    document.documentElement.setAttribute("data-ready", "1");
  }

  function topbar(r) {
    var run = S.runs[S.run];
    var title = S.order.length > 1
      ? S.order.map(function (k) { return S.runs[k].name; }).join("  vs  ")
      : run.name;
    var right = [];
    if (S.order.length > 1 && r.name !== "compare" && r.name !== "pair") {
      right.push(h("div", { class: "switch", role: "group", "aria-label": "run" }, S.order.map(function (key) {
        return h("button", {
          class: key === S.run ? "on" : "",
          type: "button",
          data: { run: key },
          title: S.runs[key].name,
          text: key.toUpperCase(),
          onclick: function () {
            S.run = key;
            var name = route().name;
            go(name === "episode" ? "#/episodes" : "#/" + name);
          },
        });
      })));
    }
    if (S.data.live) {
      right.push(h("span", {
        class: "live" + (S.liveOk ? "" : " stale"),
        id: "live-status",
        text: S.liveOk ? "live · updated " + clock(S.updated) : "live · server not answering",
      }));
    } else {
      right.push(h("span", { class: "meta", text: "generated " + S.data.generated }));
    }
    return h("header", { class: "topbar" },
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), "simulacra"),
      h("div", { class: "title", title: title, text: title }),
      right);
  }

  function tabs(r, run) {
    var items = [["overview", "Overview", null], ["episodes", "Episodes", run.rows.length]];
    if (run.feedback) items.push(["feedback", "Feedback", run.feedback.items]);
    if (run.fidelity) items.push(["realism", "Realism", null]);
    if (S.data.compare) items.push(["compare", "Compare", S.data.compare.pairs.length]);
    (run.sections || []).forEach(function (s) { items.push(["section/" + s.id, s.title, null]); });
    var current = r.name === "episode" ? "episodes" : r.name === "pair" ? "compare"
      : r.name === "section" ? "section/" + r.id : r.name;
    return h("nav", { class: "tabs", role: "tablist" }, items.map(function (item) {
      return h("button", {
        type: "button",
        role: "tab",
        class: item[0] === current ? "on" : "",
        "aria-selected": item[0] === current ? "true" : "false",
        data: { tab: item[0] },
        onclick: function () { go("#/" + item[0]); },
      }, item[1], item[2] !== null ? h("span", { class: "count", data: { count: item[0] }, text: fmtInt(item[2]) }) : null);
    }));
  }

  // ---------------------------------------------------------------- registered sections

  function sectionOf(run, id) {
    var found = null;
    ((run && run.sections) || []).forEach(function (s) { if (s.id === id) found = s; });
    return found;
  }

  function viewSection(section) {
    var parts = [h("h2", { class: "section-title", text: section.title })];
    (section.notes || []).forEach(function (n) { parts.push(h("div", { class: "note info", text: n })); });
    (section.tables || []).forEach(function (t) {
      var head = h("tr", null, t.columns.map(function (c) { return h("th", { text: c }); }));
      var body = t.rows.map(function (row) {
        return h("tr", null, row.map(function (cell) {
          var shown = cell === null || cell === undefined ? "" : typeof cell === "number" ? fmtNum(cell) : String(cell);
          return h("td", { text: shown });
        }));
      });
      parts.push(h("table", { class: "data section-table", data: { section: section.id } },
        t.caption ? h("caption", { text: t.caption }) : null, h("thead", null, head), h("tbody", null, body)));
    });
    return h("section", { class: "panel section", data: { sectionView: section.id } }, parts);
  }

  function notes(run) {
    var list = [];
    if (run.summary_source === "stale") {
      list.push(h("div", { class: "note info", text: "summary.json describes fewer or other episodes than episodes.jsonl holds (a run in progress?): the numbers below are computed from the episodes." }));
    } else if (run.summary_source === "computed") {
      list.push(h("div", { class: "note info", text: "No summary.json: the numbers below are computed from episodes.jsonl." }));
    }
    (run.warnings || []).forEach(function (w) { list.push(h("div", { class: "note", text: w })); });
    return list.length ? h("div", { class: "notes" }, list) : null;
  }

  // ---------------------------------------------------------------- charts

  function clamp01(x) { return Math.max(0, Math.min(1, x)); }

  /* Horizontal bars with optional CI whiskers. rows: [{label, n, series: [{value, low, high, cls}]}] */
  function barChart(rows, opts) {
    opts = opts || {};
    var max = opts.max || 1;
    var format = opts.format || function (v) { return fmtPct(v, 0); };
    var pos = function (v) { return (clamp01(v / max) * 100).toFixed(2) + "%"; };
    var limit = opts.limit || 30;
    var wrap = h("div", { class: "bars" });
    rows.slice(0, limit).forEach(function (row) {
      var tracks = h("div", { class: "bar-tracks" });
      var tips = [];
      row.series.forEach(function (s) {
        var track = h("div", { class: "bar-track" + (row.series.length > 1 ? " thin" : "") });
        if (isNum(s.value)) track.appendChild(h("div", { class: "bar-fill " + (s.cls || ""), style: { width: pos(s.value) } }));
        if (isNum(s.low) && isNum(s.high)) {
          var width = Math.max(0.4, (clamp01(s.high / max) - clamp01(s.low / max)) * 100);
          track.appendChild(h("div", { class: "bar-ci", style: { left: pos(s.low), width: width.toFixed(2) + "%" } }));
        }
        if (isNum(opts.ref)) track.appendChild(h("div", { class: "bar-ref", style: { left: pos(opts.ref) } }));
        tracks.appendChild(track);
        tips.push((s.name ? s.name + ": " : "") + format(s.value) + (fmtCI(s, format) ? " (" + fmtCI(s, format) + ")" : ""));
      });
      var valueText = row.series.map(function (s) { return format(s.value); }).join(" / ");
      wrap.appendChild(h("div", { class: "bar-row", title: row.label + " — " + tips.join("; ") + (isNum(row.n) ? "; n=" + row.n : "") },
        h("div", { class: "bar-label", text: row.label }),
        tracks,
        h("div", { class: "bar-value" }, valueText, isNum(row.n) ? h("span", { class: "n", text: "n=" + fmtInt(row.n) }) : null)));
    });
    if (rows.length > limit) wrap.appendChild(h("div", { class: "more", text: "… and " + (rows.length - limit) + " more" }));
    return wrap;
  }

  function legend(items) {
    return h("div", { class: "legend" }, items.map(function (item) {
      return h("span", null, h("i", { class: item[0] }), item[1]);
    }));
  }

  function niceMax(x) {
    if (x <= 5) return Math.max(1, Math.ceil(x));
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= x) return steps[i] * p;
    return 10 * p;
  }

  var PALETTE = ["#4f46e5", "#0d9488", "#d97706", "#db2777", "#2563eb", "#65a30d"];

  /* Lines over x = k (pass^k) or turn, each with a CI band. series: [{name, points: [{k, value, low, high}]}] */
  function lineChart(series, opts) {
    opts = opts || {};
    var prefix = opts.prefix || "k=";
    var W = 520, H = 220, m = { l: 42, r: 18, t: 16, b: 32 };
    var ks = [];
    series.forEach(function (s) { s.points.forEach(function (p) { ks.push(p.k); }); });
    var kmin = Math.min.apply(null, ks), kmax = Math.max.apply(null, ks);
    var pw = W - m.l - m.r, ph = H - m.t - m.b;
    var x = function (k) { return m.l + (kmax === kmin ? pw / 2 : ((k - kmin) / (kmax - kmin)) * pw); };
    var y = function (v) { return m.t + (1 - clamp01(v)) * ph; };
    var svg = sv("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": opts.label || "chart" });
    [0, 0.25, 0.5, 0.75, 1].forEach(function (t) {
      svg.appendChild(sv("line", { class: "grid-line", x1: m.l, x2: W - m.r, y1: y(t), y2: y(t) }));
      svg.appendChild(sv("text", { x: m.l - 8, y: y(t) + 4, "text-anchor": "end", text: Math.round(t * 100) + "%" }));
    });
    var allKs = Array.from(new Set(ks)).sort(function (a, b) { return a - b; });
    var labelEvery = Math.ceil(allKs.length / 12);
    allKs.forEach(function (k, i) {
      if (i % labelEvery === 0 || i === allKs.length - 1) {
        svg.appendChild(sv("text", { x: x(k), y: H - m.b + 18, "text-anchor": "middle", text: prefix + k }));
      }
    });
    series.forEach(function (s, index) {
      var color = PALETTE[index % PALETTE.length];
      var points = s.points;
      var banded = points.filter(function (p) { return isNum(p.low) && isNum(p.high); });
      if (banded.length > 1) {
        var upper = banded.map(function (p) { return x(p.k) + "," + y(p.high); });
        var lower = banded.slice().reverse().map(function (p) { return x(p.k) + "," + y(p.low); });
        svg.appendChild(sv("polygon", { class: "band", fill: color, "fill-opacity": series.length > 1 ? 0.08 : 0.13, points: upper.concat(lower).join(" ") }));
      }
      var valued = points.filter(function (p) { return isNum(p.value); });
      if (valued.length > 1) {
        svg.appendChild(sv("path", { class: "line", stroke: color, d: valued.map(function (p, i) { return (i ? "L" : "M") + x(p.k) + " " + y(p.value); }).join(" ") }));
      }
      valued.forEach(function (p) {
        svg.appendChild(sv("circle", { class: "dot", stroke: color, cx: x(p.k), cy: y(p.value), r: 4 },
          sv("title", { text: (s.name ? s.name + ": " : "") + (opts.name || "pass^") + p.k + " = " + fmtPct(p.value) + (fmtCI(p) ? " (" + fmtCI(p) + ")" : "") })));
        if (series.length === 1 && valued.length <= 12) {
          svg.appendChild(sv("text", { class: "val", x: x(p.k), y: y(p.value) - 9, "text-anchor": "middle", text: fmtPct(p.value, 0) }));
        }
      });
    });
    return svg;
  }

  /* Episodes by number of user turns, stacked by outcome. */
  function turnsChart(run) {
    var rows = run.rows;
    var maxTurn = 0, minTurn = Infinity;
    rows.forEach(function (row) {
      var t = Math.max(0, row[F.turns]);
      if (t > maxTurn) maxTurn = t;
      if (t < minTurn) minTurn = t;
    });
    var start = Math.max(0, Math.min(minTurn, maxTurn));  // the first bar holds episodes
    var width = Math.max(1, Math.ceil((maxTurn - start + 1) / 30));
    var bins = Math.floor((maxTurn - start) / width) + 1;
    var counts = [];
    for (var b = 0; b < bins; b++) counts.push({ success: 0, failure: 0, unscored: 0, error: 0 });
    rows.forEach(function (row) {
      var bin = Math.floor((Math.max(0, row[F.turns]) - start) / width);
      counts[bin][row[F.outcome]] = (counts[bin][row[F.outcome]] || 0) + 1;
    });
    var totals = counts.map(function (c) { return c.success + c.failure + c.unscored + c.error; });
    var top = niceMax(Math.max.apply(null, totals.concat([1])));
    var W = 520, H = 220, m = { l: 42, r: 12, t: 14, b: 32 };
    var pw = W - m.l - m.r, ph = H - m.t - m.b;
    var bw = pw / bins;
    var y = function (v) { return m.t + ph - (v / top) * ph; };
    var svg = sv("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "user turns per episode" });
    [0, 0.5, 1].forEach(function (t) {
      svg.appendChild(sv("line", { class: "grid-line", x1: m.l, x2: W - m.r, y1: y(top * t), y2: y(top * t) }));
      svg.appendChild(sv("text", { x: m.l - 8, y: y(top * t) + 4, "text-anchor": "end", text: fmtInt(top * t) }));
    });
    var labelEvery = Math.ceil(bins / 15);
    counts.forEach(function (c, i) {
      var x0 = m.l + i * bw + bw * 0.14;
      var base = 0;
      var from = start + i * width;
      var label = width === 1 ? plural(from, "turn") : from + "–" + (from + width - 1) + " turns";
      OUTCOMES.forEach(function (o) {
        if (!c[o]) return;
        svg.appendChild(sv("rect", { class: "seg-" + o, x: x0, width: bw * 0.72, y: y(base + c[o]), height: Math.max(0.5, y(base) - y(base + c[o])), rx: 2 },
          sv("title", { text: label + ": " + c[o] + " " + o })));
        base += c[o];
      });
      if (i % labelEvery === 0) {
        svg.appendChild(sv("text", { x: m.l + i * bw + bw / 2, y: H - m.b + 18, "text-anchor": "middle", text: String(from) }));
      }
    });
    svg.appendChild(sv("line", { class: "axis", x1: m.l, x2: W - m.r, y1: y(0), y2: y(0) }));
    return svg;
  }

  function panel(title, hint, body, opts) {
    opts = opts || {};
    return h("section", { class: "panel" + (opts.wide ? " wide" : ""), data: { panel: opts.id || title } },
      h("div", { class: "panel-head" }, h("h2", { text: title }), opts.control || null, hint ? h("div", { class: "hint", text: hint }) : null),
      body);
  }

  // ---------------------------------------------------------------- overview

  function card(id, label, value, extra, cls) {
    return h("div", { class: "card" + (cls ? " " + cls : ""), data: { card: id } },
      h("div", { class: "label", text: label }),
      h("div", { class: "value", data: { value: "" } }, value),
      extra);
  }

  function summaryCards(run) {
    var s = run.summary || {};
    var cards = [];
    var episodes = isNum(s.episodes) ? s.episodes : run.rows.length;
    var done = s.complete === false ? " · in progress" : "";
    cards.push(card("episodes", "Episodes", fmtInt(episodes),
      h("div", { class: "sub", text: (isNum(s.scored) ? fmtInt(s.scored) + " scored" : "") + done })));
    var success = s.success;
    if (success && isNum(success.value)) {
      var spark = h("div", { class: "spark" });
      if (isNum(success.low) && isNum(success.high)) {
        spark.appendChild(h("i", { style: { left: fmtPct(clamp01(success.low), 2), width: fmtPct(clamp01(success.high) - clamp01(success.low), 2) } }));
      }
      spark.appendChild(h("span", { style: { width: fmtPct(clamp01(success.value), 2) } }));
      cards.push(card("success", "Success", fmtPct(success.value), [
        ciLine(success),
        isNum(success.n) ? h("div", { class: "sub", text: "over " + plural(success.n, "task") }) : null,
        spark,
      ]));
    } else {
      cards.push(card("success", "Success", "—", h("div", { class: "sub", text: "no scored episodes" })));
    }
    var pk = run.pass_hat_k && run.pass_hat_k.points;
    if (pk && pk.length) {
      var last = pk[pk.length - 1];
      var first = pk[0];
      cards.push(card("pass_hat_k", "pass^" + last.k, fmtPct(last.value), [
        ciLine(last),
        h("div", { class: "sub", text: pk.length > 1 ? "pass^" + first.k + " " + fmtPct(first.value) + " → pass^" + last.k + " " + fmtPct(last.value) : "all of k trials succeed" }),
      ]));
    }
    run.extra_metrics.forEach(function (e) {
      var unit = [e.value, e.low, e.high].every(function (v) { return !isNum(v) || (v >= 0 && v <= 1); });
      var format = e.unit === "percent" ? function (v) { return fmtNum(v, 1) + "%"; }
        : unit ? function (v) { return fmtPct(v); } : function (v) { return fmtNum(v, 3); };
      cards.push(card(e.key, e.label, format(e.value), [
        ciLine(e, format),
        h("div", { class: "sub", title: e.note, text: e.note }),
      ]));
    });
    if (isNum(s.mean_user_turns)) {
      cards.push(card("turns", "User turns", fmtNum(s.mean_user_turns, 2), h("div", { class: "sub", text: "mean per episode" })));
    }
    if (isNum(s.tokens)) {
      var roles = s.usage && typeof s.usage === "object" ? Object.keys(s.usage).map(function (role) {
        var u = s.usage[role] || {};
        return role + " " + compact(u.total_tokens);
      }).join(" · ") : "";
      cards.push(card("tokens", "Tokens", fmtInt(s.tokens), h("div", { class: "sub", title: roles, text: roles })));
    }
    if (isNum(s.errors)) {
      var kinds = s.error_kinds && typeof s.error_kinds === "object" ? Object.keys(s.error_kinds).map(function (k) { return k + " " + s.error_kinds[k]; }).join(" · ") : "";
      cards.push(card("errors", "Errors", fmtInt(s.errors), h("div", { class: "sub", title: kinds, text: kinds || "episodes that failed to run" }), s.errors > 0 ? "bad" : ""));
    }
    var g = s.guard_events;
    if (g && isNum(g.total)) {
      cards.push(card("guards", "Guard events", fmtInt(g.total), h("div", { class: "sub", text: fmtInt(g.fallbacks) + " fallbacks" })));
    }
    return h("div", { class: "cards" }, cards);
  }

  function breakdownRows(groups, seriesOf) {
    return groups.map(function (g) {
      return { label: g.label, n: g.n, series: seriesOf(g) };
    });
  }

  function breakdownPanel(run, kind, title) {
    var list = run.breakdowns && run.breakdowns[kind];
    if (!list || !list.length) return null;
    var stateKey = run.key + ":" + kind;
    var chosen = list.filter(function (b) { return b.key === S.attr[stateKey]; })[0];
    if (!chosen) {
      // individual personas when there are few, else the first attribute; suites for tasks
      var few = list.filter(function (b) { return b.key === "persona" && b.groups.length <= 12; })[0];
      var preferred = kind === "persona" ? (few ? "persona" : "expertise") : "suite";
      chosen = list.filter(function (b) { return b.key === preferred; })[0] || list[0];
    }
    var body = h("div");
    var overall = run.summary && run.summary.success ? run.summary.success.value : null;
    function draw(b) {
      clear(body);
      body.appendChild(barChart(breakdownRows(b.groups, function (g) {
        return [{ value: g.value, low: g.low, high: g.high }];
      }), { ref: overall }));
      body.appendChild(legend([["", "success rate"], ["ref", "overall " + fmtPct(overall, 0)]]));
    }
    var select = h("select", { "aria-label": title + " by", data: { breakdown: kind } }, list.map(function (b) {
      return h("option", { value: b.key, selected: b.key === chosen.key, text: b.label });
    }));
    select.addEventListener("change", function () {
      var b = list.filter(function (x) { return x.key === select.value; })[0];
      S.attr[stateKey] = b.key;
      draw(b);
    });
    draw(chosen);
    return panel(title, "bars: mean success; whiskers: 95% bootstrap CI; dashed line: the run's overall rate", body,
      { control: h("label", { class: "muted" }, "by ", select), id: "breakdown-" + kind });
  }

  function countBars(counts, cls) {
    var keys = Object.keys(counts || {}).filter(function (k) { return isNum(counts[k]) && counts[k] > 0; });
    if (!keys.length) return null;
    keys.sort(function (a, b) { return counts[b] - counts[a]; });
    var max = counts[keys[0]];
    return barChart(keys.map(function (k) {
      return { label: k, series: [{ value: counts[k], cls: cls || "neutral" }] };
    }), { max: max, format: fmtInt });
  }

  function viewOverview(run) {
    var out = [notes(run), summaryCards(run)];
    var grid = h("div", { class: "grid" });
    add(grid, [breakdownPanel(run, "persona", "Success by persona"), breakdownPanel(run, "task", "Success by task")]);
    var pk = run.pass_hat_k;
    if (pk && pk.points && pk.points.length) {
      var modes = Object.keys(pk.by_mode || {});
      var series = modes.length > 1
        ? modes.map(function (mode) { return { name: mode, points: pk.by_mode[mode] }; })
        : [{ name: "", points: pk.points }];
      grid.appendChild(panel("pass^k", "chance that all k trials of the same persona × task succeed; band: 95% CI",
        [lineChart(series, { label: "pass^k by k" }),
          modes.length > 1 ? legend(modes.map(function (mode, i) { return ["mode-" + i, mode]; })) : null],
        { id: "pass_hat_k" }));
    }
    var sbt = run.success_by_turn;
    if (sbt && sbt.points && sbt.points.length) {
      grid.appendChild(panel("Success by turn", "share of feedback episodes solved by each turn" + (isNum(sbt.n) ? " (n=" + fmtInt(sbt.n) + ")" : ""),
        lineChart([{ name: "", points: sbt.points }], { prefix: "turn ", name: "solved by turn ", label: "success by turn" }), { id: "success_by_turn" }));
    }
    if (run.rows.length) {
      grid.appendChild(panel("User turns", "episodes by number of user turns", [
        turnsChart(run),
        legend([["success", "success"], ["failure", "failure"], ["unscored", "unscored"], ["error", "error"]]),
      ], { id: "turns" }));
    }
    var s = run.summary || {};
    var stops = countBars(s.stop_reasons);
    if (stops) grid.appendChild(panel("Stop reasons", "why conversations ended", stops, { id: "stops" }));
    var guards = {};
    if (s.guard_events) Object.keys(s.guard_events).forEach(function (k) { if (k !== "total" && k !== "fallbacks") guards[k] = s.guard_events[k]; });
    var guardBars = countBars(guards, "failure");
    if (guardBars) grid.appendChild(panel("Guard events", "simulated-user turns caught by a guard (regenerated or replaced)", guardBars, { id: "guards" }));
    var bon = bestOfNPanel(run.best_of_n);
    if (bon) grid.appendChild(bon);
    if (run.config) grid.appendChild(configPanel(run.config));
    out.push(grid);
    if (!run.rows.length) out.push(h("p", { class: "muted", text: "No episodes yet." }));
    return out;
  }

  /* A best-of-n run against plain samples (n = 1): the raters' win rate and the
     length-controlled one beside it, each with its interval, as `simulacra compare`
     wrote them (read by the run layer); with no comparison, the command that makes one. */
  function bestOfNPanel(b) {
    if (!b) return null;
    var title = "Best of " + (isNum(b.n) ? fmtInt(b.n) : "n") + " over n = 1";
    var list = b.comparisons || [];
    if (!list.length) {
      return panel(title, null, [
        h("p", { class: "muted", data: { note: "no-best-of-n-compare" } },
          "Not compared with plain samples yet. Run the same config with a plain target (type: model" +
          (b.model ? ", model: " + b.model : "") + ", one reply a turn) under another name, then:"),
        h("pre", { class: "command", data: { command: "compare" }, text: b.command }),
        h("p", { class: "muted", text: "and build this report again: the raters' win rate of best-of-n and the length-controlled rate appear here." }),
      ], { id: "best-of-n" });
    }
    var body = list.map(function (c) {
      var rows = [];
      if (c.win_rate) rows.push(estimateRow("win rate", c.win_rate));
      if (c.length_controlled) rows.push(estimateRow("length-controlled", c.length_controlled, { cls: "b" }));
      var lines = [["win-rate", "Win rate over n = 1", c.win_rate], ["lc-win-rate", "Length-controlled", c.length_controlled]];
      return h("div", { class: "bon-compare", data: { against: str(c.run) } },
        h("div", { class: "hint", text: "against " + str(c.run) + " · " + plural(c.items || 0, "pair") +
          " (best-of-n won " + fmtInt(c.wins) + ", lost " + fmtInt(c.losses) + ", tied " + fmtInt(c.ties) + ")" +
          (c.raters && c.raters.length ? " · raters: " + c.raters.join(", ") : "") + " · " + str(c.file) }),
        rows.length ? barChart(rows, { ref: 0.5, format: function (x) { return fmtPct(x, 1); } }) : null,
        h("dl", { class: "kv" }, lines.map(function (x) {
          var e = x[2];
          var ci = e ? fmtCI(e, null, "item") : "";
          return [h("dt", { text: x[1] }), h("dd", { data: { rate: x[0] } },
            h("b", { text: e && isNum(e.value) ? fmtPct(e.value, 1) : "—" }),
            ci ? h("span", { class: degenerate(e) ? "degenerate" : "muted", data: { ci: degenerate(e) ? "degenerate" : "interval" }, text: " (" + ci + ")" }) : null)];
        })),
        c.same_model === false ? h("div", { class: "note", text: "the two runs sample different models: the rate mixes the model with the choosing" }) : null,
        c.warning ? h("div", { class: "note", data: { note: "lc-extrapolates" }, text: c.warning }) : null);
    });
    return panel(title, "share of matched pairs the raters prefer best-of-n, ties half; dashed line: 50%; a rater (or chooser) that likes longer replies raises the first rate, not the second",
      body, { id: "best-of-n" });
  }

  function configPanel(config) {
    var dl = h("dl", { class: "kv" });
    function row(k, v) { if (v !== null && v !== undefined && v !== "") add(dl, [h("dt", { text: k }), h("dd", { text: fmtValue(v) })]); }
    var target = config.target || {};
    row("target", target.name || target.model_id || target.model);
    row("target type", target.type);
    var user = config.user || {};
    row("user simulator", user.simulator);
    row("user model", user.model);
    Object.keys(config.models || {}).forEach(function (k) {
      var m = config.models[k] || {};
      row("model " + k, [m.backend, m.model].filter(Boolean).join(" · "));
    });
    row("repeats", config.repeats);
    row("max turns", config.max_turns);
    row("seed", config.seed);
    return panel("Run", null, dl, { id: "config" });
  }

  // ---------------------------------------------------------------- episode list

  function rowMatches(run, f, i) {
    var row = run.rows[i];
    if (f.persona && run.personaNames[row[F.persona]] !== f.persona) return false;
    if (f.task && run.taskIds[row[F.task]] !== f.task) return false;
    if (f.suite && run.taskSuites[row[F.task]] !== f.suite) return false;
    if (f.outcome && row[F.outcome] !== f.outcome) return false;
    if (f.guard === "none" && row[F.guards] > 0) return false;
    if (f.guard === "any" && !(row[F.guards] > 0)) return false;
    if (f.guard === "fallback" && !(row[F.fallbacks] > 0)) return false;
    if (f.guard && f.guard.indexOf("kind:") === 0 && (row[F.guard_kinds] || []).indexOf(f.guard.slice(5)) < 0) return false;
    if (f.feedback === "feedback" && !(row[F.feedback] > 0)) return false;
    if (f.feedback === "signals" && !(row[F.signals] > 0)) return false;
    if (f.feedback === "none" && (row[F.feedback] > 0 || row[F.signals] > 0)) return false;
    if (f.q) {
      var hay = (row[F.id] + " " + row[F.preview] + " " + run.personaNames[row[F.persona]] + " " + run.taskIds[row[F.task]] + " " + str(row[F.stop]) + " " + str(row[F.error])).toLowerCase();
      if (hay.indexOf(f.q.toLowerCase()) < 0) return false;
    }
    return true;
  }

  function filteredIndices(run) {
    var f = S.filters[run.key];
    var sig = JSON.stringify(f);
    var cached = S.listCache[run.key];
    if (cached && cached.sig === sig) return cached.list;
    var list = [];
    for (var i = 0; i < run.rows.length; i++) if (rowMatches(run, f, i)) list.push(i);
    S.listCache[run.key] = { sig: sig, list: list };
    return list;
  }

  function filterSelect(run, key, label, options) {
    var f = S.filters[run.key];
    var select = h("select", { "aria-label": label, data: { filter: key } },
      options.map(function (o) { return h("option", { value: o[0], selected: f[key] === o[0], text: o[1] }); }));
    select.addEventListener("change", function () {
      f[key] = select.value;
      S.pages[run.key] = 0;
      refreshList(run);
    });
    return h("label", null, label, select);
  }

  function viewEpisodes(run) {
    var f = S.filters[run.key];
    var bar = h("div", { class: "filters" });
    add(bar, [
      filterSelect(run, "persona", "Persona", [["", "all"]].concat(run.personaOptions.map(function (o) { return [o.value, o.label]; }))),
      filterSelect(run, "task", "Task", [["", "all"]].concat(run.taskOptions.map(function (t) { return [t, t]; }))),
      run.suiteOptions.length > 1 ? filterSelect(run, "suite", "Suite", [["", "all"]].concat(run.suiteOptions.map(function (t) { return [t, t]; }))) : null,
      filterSelect(run, "outcome", "Outcome", [["", "all"]].concat(OUTCOMES.map(function (o) { return [o, o]; }))),
      filterSelect(run, "guard", "Guard", [["", "all"], ["any", "any guard event"], ["fallback", "a fallback"], ["none", "no guard event"]]
        .concat(run.guardOptions.map(function (g) { return ["kind:" + g, g]; }))),
      run.withFeedback || run.withSignals ? filterSelect(run, "feedback", "Feedback", [["", "all"], ["feedback", "with rater feedback"], ["signals", "with implicit signals"], ["none", "without feedback"]]) : null,
    ]);
    var search = h("input", { type: "search", placeholder: "search text, id…", value: f.q, "aria-label": "search", data: { filter: "q" }, spellcheck: "false" });
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { f.q = search.value; S.pages[run.key] = 0; refreshList(run); }, 120);
    });
    var counter = h("span", { class: "result-count", id: "result-count" });
    add(bar, [search, h("span", { class: "grow" }), counter]);
    var holder = h("div", { id: "episode-list" });
    refreshListInto(run, holder, counter);
    return [notes(run), bar, holder];
  }

  function refreshList(run) {
    var holder = byId("episode-list");
    if (holder) refreshListInto(run, holder, byId("result-count"));
  }

  function refreshListInto(run, holder, counter) {
    var list = filteredIndices(run);
    var pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
    var page = Math.min(S.pages[run.key] || 0, pages - 1);
    S.pages[run.key] = page;
    if (counter) counter.textContent = plural(list.length, "episode") + (list.length !== run.rows.length ? " of " + fmtInt(run.rows.length) : "");
    var showFeedback = run.withFeedback || run.withSignals;
    var head = h("tr", null,
      h("th", { style: { width: "96px" }, text: "Outcome" }),
      h("th", { style: { width: "17%" }, text: "Persona" }),
      h("th", { style: { width: "17%" }, text: "Task" }),
      h("th", { style: { width: "58px" }, class: "num", text: "Turns" }),
      h("th", { style: { width: "96px" }, text: "Stopped" }),
      h("th", { style: { width: "66px" }, class: "num", text: "Guards" }),
      showFeedback ? h("th", { style: { width: "78px" }, class: "num", text: "Feedback" }) : null,
      h("th", { text: "First user turn" }));
    var body = h("tbody");
    list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).forEach(function (i) {
      var row = run.rows[i];
      var persona = run.personas[row[F.persona]] || {};
      var tr = h("tr", { tabindex: "0", data: { index: i, id: row[F.id] }, title: "open episode " + row[F.id] },
        h("td", null, h("span", { class: "pill " + row[F.outcome], text: row[F.outcome] })),
        h("td", { class: "who", title: personaLabel(persona) + " (" + str(persona.name) + ")", text: personaLabel(persona) }),
        h("td", { title: run.taskIds[row[F.task]], text: run.taskIds[row[F.task]] + (row[F.repeat] ? " #" + row[F.repeat] : "") }),
        h("td", { class: "num", text: fmtInt(row[F.turns]) }),
        h("td", { class: "stop", data: { stop: str(row[F.stop]) }, title: str(row[F.stop]), text: str(row[F.stop]).replace(/_/g, " ") }),
        h("td", { class: "num", text: row[F.guards] ? fmtInt(row[F.guards]) : "" }),
        showFeedback ? h("td", { class: "num", text: (row[F.feedback] || "") + (row[F.signals] ? (row[F.feedback] ? " · " : "") + row[F.signals] + "s" : "") }) : null,
        h("td", { class: "preview", text: row[F.preview] }));
      var open = function () { go("#/episode/" + run.key + "/" + i); };
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", function (e) { if (e.key === "Enter") open(); });
      body.appendChild(tr);
    });
    if (!list.length) {
      body.appendChild(h("tr", null, h("td", { class: "empty", colspan: showFeedback ? "8" : "7", text: run.rows.length ? "No episode matches these filters." : "No episodes yet." })));
    }
    var pager = h("div", { class: "pager" },
      h("button", { type: "button", class: "btn", disabled: page === 0, data: { page: "prev" }, text: "← Previous", onclick: function () { S.pages[run.key] = page - 1; refreshList(run); } }),
      h("span", { data: { pageinfo: "" }, text: "page " + (page + 1) + " of " + pages }),
      h("button", { type: "button", class: "btn", disabled: page >= pages - 1, data: { page: "next" }, text: "Next →", onclick: function () { S.pages[run.key] = page + 1; refreshList(run); } }));
    clear(holder);
    add(holder, [h("div", { class: "list" }, h("table", { data: { list: run.key } }, h("thead", null, head), body)), pager]);
  }

  // ---------------------------------------------------------------- one episode

  function trait(label, value, max, text) {
    if (!isNum(value)) return null;
    return h("div", { class: "trait" },
      h("span", { class: "muted", text: label }),
      h("span", { class: "track" }, h("span", { style: { width: fmtPct(clamp01(value / max), 1) } })),
      h("span", { class: "v", text: text || fmtNum(value, 2) }));
  }

  function personaPanel(p) {
    var style = p.style && typeof p.style === "object" ? p.style : {};
    var big = p.big_five && typeof p.big_five === "object" ? p.big_five : {};
    var prefs = Array.isArray(p.hidden_preferences) ? p.hidden_preferences : [];
    var tags = Array.isArray(p.tags) ? p.tags : [];
    return h("section", { class: "panel", data: { panel: "persona" } },
      h("h3", { text: "Persona" }),
      h("p", null, h("span", { class: "persona-name", text: personaLabel(p) }), p.display_name && p.name ? h("span", { class: "persona-id", text: str(p.name) }) : null),
      p.background ? h("p", { text: str(p.background) }) : null,
      h("dl", { class: "kv" },
        p.expertise ? [h("dt", { text: "expertise" }), h("dd", { text: str(p.expertise) })] : null,
        p.language ? [h("dt", { text: "language" }), h("dd", { text: str(p.language) })] : null,
        style.description ? [h("dt", { text: "writes" }), h("dd", { text: str(style.description) })] : null),
      h("div", { style: { "margin-top": "8px" } },
        trait("patience", p.patience, 10, isNum(p.patience) ? String(p.patience) : null),
        trait("cooperativeness", p.cooperativeness, 1),
        trait("verbosity", p.verbosity, 1),
        trait("typo rate", p.typo_rate, 0.1, fmtPct(p.typo_rate, 0)),
        Object.keys(big).map(function (k) { return trait(k, big[k], 1); })),
      prefs.length ? [h("h3", { style: { "margin-top": "10px" }, text: "Hidden preferences" }),
        h("ul", { class: "plain" }, prefs.map(function (x) { return h("li", { text: fmtValue(x) }); }))] : null,
      tags.length ? h("div", { style: { "margin-top": "8px" } }, tags.map(function (t) { return h("span", { class: "chip tag", text: fmtValue(t) }); })) : null);
  }

  function revealedFacts(task, detail) {
    var facts = Array.isArray(task.facts) ? task.facts.map(fmtValue) : [];
    var told = {};
    var userTurn = -1;
    (detail && detail.messages || []).forEach(function (m) {
      if (m.role !== "user") return;
      userTurn++;
      var fact = m.meta && m.meta.fact;
      facts.forEach(function (f, i) {
        if (told[i] !== undefined) return;
        if ((fact && fact === f) || (f && m.content.toLowerCase().indexOf(f.toLowerCase()) >= 0)) told[i] = userTurn;
      });
    });
    return { facts: facts, told: told };
  }

  function goalPanel(task, detail) {
    var info = revealedFacts(task, detail);
    return h("section", { class: "panel", data: { panel: "goal" } },
      h("h3", { text: "Hidden goal" }),
      task.goal ? h("p", { class: "goal", text: str(task.goal) }) : h("p", { class: "muted", text: "no goal recorded" }),
      info.facts.length ? [
        h("h3", { style: { "margin-top": "10px" }, text: "Facts the user holds" }),
        h("ul", { class: "facts" }, info.facts.map(function (f, i) {
          var told = info.told[i] !== undefined;
          return h("li", { class: detail ? (told ? "told" : "untold") : "", title: detail ? (told ? "told at user turn " + (info.told[i] + 1) : "never told") : "" },
            h("span", { class: "mark", text: detail ? (told ? "✓" : "·") : "·" }), h("span", { text: f }));
        })),
      ] : null,
      task.reference !== undefined && task.reference !== null && task.reference !== "" ? [
        h("h3", { style: { "margin-top": "10px" }, text: "Reference" }), h("p", { text: fmtValue(task.reference) })] : null,
      h("div", { class: "faint", style: { "font-size": "12px" }, text: [task.id, task.suite].filter(Boolean).map(str).join(" · ") }));
  }

  function outcomePanel(run, index, detail) {
    var row = run.rows[index];
    var dl = h("dl", { class: "kv" });
    function kv(k, v) { if (v !== null && v !== undefined && v !== "") add(dl, [h("dt", { text: k }), h("dd", { text: fmtValue(v) })]); }
    kv("status", row[F.status]);
    kv("stop reason", row[F.stop]);
    kv("score", row[F.score]);
    var check = detail && detail.check && typeof detail.check === "object" ? detail.check : {};
    kv("check passed", check.passed);
    kv("extracted", check.extracted);
    kv("check", check.detail);
    kv("target", row[F.target]);
    kv("mode", row[F.mode]);
    kv("repeat", row[F.repeat]);
    kv("tokens", row[F.tokens]);
    kv("duration", isNum(row[F.duration]) ? row[F.duration].toFixed(1) + " s" : null);
    kv("seed", detail && detail.seed !== null && detail.seed !== undefined ? String(detail.seed) : null);
    kv("id", row[F.id]);
    var usage = detail && detail.usage && typeof detail.usage === "object" ? detail.usage : null;
    var error = detail && detail.error;
    return h("section", { class: "panel", data: { panel: "outcome" } },
      h("h3", { text: "Outcome" }),
      h("p", null, h("span", { class: "pill " + row[F.outcome], text: row[F.outcome] })),
      dl,
      error ? [h("h3", { style: { "margin-top": "10px" }, text: "Error" }), h("pre", { class: "json", text: fmtValue(error) })] : null,
      usage && Object.keys(usage).length ? [h("h3", { style: { "margin-top": "10px" }, text: "Tokens" }),
        h("dl", { class: "kv" }, Object.keys(usage).map(function (role) {
          var u = usage[role] || {};
          return [h("dt", { text: role }), h("dd", { text: fmtInt(u.total_tokens) + " in " + plural(u.calls || 0, "call") + (u.cached_calls ? " (" + u.cached_calls + " cached)" : "") })];
        }))] : null);
  }

  function judgePanel(detail) {
    var check = detail && detail.check && typeof detail.check === "object" ? detail.check : {};
    var j = check.judgement;
    if (!j || typeof j !== "object") return null;
    var criteria = Array.isArray(j.criteria) ? j.criteria : [];
    var marks = { "true": ["✓", "met"], "false": ["✗", "not met"], "null": ["?", "no answer"] };
    return h("section", { class: "panel", data: { panel: "judge" } },
      h("h3", { text: "Judge's verdict" }),
      h("p", null, h("span", { class: "pill " + (j.verdict === "pass" ? "success" : j.verdict === "fail" ? "failure" : "unscored"), text: str(j.verdict) }),
        " " + fmtValue(j.met) + "/" + criteria.length + " must-haves met" + (isNum(j.needed) ? " (" + j.needed + " needed)" : "")),
      h("ul", { class: "facts judge-criteria" }, criteria.map(function (c) {
        var mark = marks[String(c && c.met === undefined ? null : c.met)] || marks["null"];
        return h("li", { class: c.met === true ? "told" : "untold", title: mark[1] + (Array.isArray(c.shown_at) ? " · shown at " + c.shown_at.join(", ") : "") },
          h("span", { class: "mark", text: mark[0] }),
          h("span", null, h("b", { text: fmtValue(c.criterion) }), c.reason ? h("div", { class: "muted", text: fmtValue(c.reason) }) : null));
      })),
      h("dl", { class: "kv" },
        j.judge ? [h("dt", { text: "judge" }), h("dd", { text: fmtValue(j.judge) + (j.model ? " · " + fmtValue(j.model) : "") })] : null,
        j.consistent !== null && j.consistent !== undefined ? [h("dt", { text: "orders agree" }), h("dd", { text: j.consistent ? "yes" : "no" })] : null,
        isNum(j.answer_chars) ? [h("dt", { text: "judged text" }), h("dd", { text: fmtInt(j.answer_chars) + " chars" })] : null,
        j.error ? [h("dt", { text: "judge error" }), h("dd", { text: fmtValue(j.error) })] : null),
      j.reasons ? h("details", null, h("summary", { text: "the judge's reply" }), h("pre", { class: "json judge-reasons", text: fmtValue(j.reasons) })) : null);
  }

  function guardPanel(detail) {
    var events = detail && detail.guard_events || [];
    if (!events.length) return null;
    return h("section", { class: "panel", data: { panel: "guards" } },
      h("h3", { text: "Guard events" }),
      h("div", { class: "events" }, events.map(function (e) {
        return h("div", { class: "ev" + (e.action === "fallback" ? " fallback" : "") },
          h("b", { text: str(e.guard) }), " · ", str(e.action), isNum(e.turn) ? " · user turn " + (e.turn + 1) : "",
          e.detail ? h("div", { class: "muted", text: fmtValue(e.detail) }) : null);
      })));
  }

  function extraPanel(detail) {
    var extra = detail && detail.extra;
    if (!extra || typeof extra !== "object" || !Object.keys(extra).length) return null;
    return h("section", { class: "panel", data: { panel: "extra" } },
      h("details", null, h("summary", { text: "extra data" }), h("pre", { class: "json", text: JSON.stringify(extra, null, 2) })));
  }

  function feedbackText(item) {
    var kind = str(item.kind);
    var rater = item.rater !== undefined && item.rater !== null ? " by " + fmtValue(item.rater) : "";
    var confidence = isNum(item.confidence) ? " · confidence " + fmtNum(item.confidence, 2) : "";
    var head, body = "";
    if (kind === "rubric") {
      head = "rubric · " + fmtValue(item.dimension || "overall") + ": " + fmtValue(item.score) + (item.scale !== undefined ? " / " + fmtValue(Array.isArray(item.scale) ? item.scale[item.scale.length - 1] : item.scale) : "");
      body = item.rationale || item.comment || "";
    } else if (kind === "pairwise") {
      head = "pairwise" + (item.pairing ? " (" + fmtValue(item.pairing) + ")" : "") + " · verdict " + fmtValue(item.verdict) + (item.first_shown ? " (shown first: " + fmtValue(item.first_shown) + ")" : "");
      body = item.rationale || "";
    } else if (kind === "critique") {
      head = "critique";
      var parts = [];
      if (Array.isArray(item.strengths) && item.strengths.length) parts.push("+ " + item.strengths.map(fmtValue).join("\n+ "));
      if (Array.isArray(item.weaknesses) && item.weaknesses.length) parts.push("− " + item.weaknesses.map(fmtValue).join("\n− "));
      if (item.suggestion) parts.push("→ " + fmtValue(item.suggestion));
      body = parts.length ? parts.join("\n") : item.critique || item.text || item.content || item.rationale || "";
    } else if (kind === "implicit") {
      head = "implicit signals";
      body = (item.signals || []).map(signalName).join(", ");
    } else {
      head = kind || "feedback";
      body = item.rationale || item.text || "";
    }
    return { head: head + rater + confidence, body: fmtValue(body) };
  }

  function signalName(sig) {
    if (typeof sig === "string") return sig;
    if (sig && typeof sig === "object") {
      var keys = ["name", "signal", "type", "kind", "label"];
      for (var i = 0; i < keys.length; i++) if (typeof sig[keys[i]] === "string") return sig[keys[i]];
    }
    return fmtValue(sig);
  }

  function feedbackBlock(item, runKey, index) {
    var text = feedbackText(item);
    var side = "";
    if (item.kind === "pairwise") {
      var id = runKey !== undefined ? S.runs[runKey].rows[index][F.id] : null;
      if (id && String(item.episode_a) === id) side = " · this episode is A";
      else if (id && String(item.episode_b) === id) side = " · this episode is B";
    }
    return h("div", { class: "fb-inline", data: { feedback: str(item.kind) } },
      h("b", { text: text.head + side }), text.body ? h("div", { text: text.body }) : null);
  }

  /* Rubric scores by the same rater with the same rationale become one block. */
  function groupRubrics(items) {
    var out = [], groups = {};
    items.forEach(function (item) {
      if (item.kind !== "rubric") { out.push(item); return; }
      var key = JSON.stringify([item.rater, item.rationale || ""]);
      if (!groups[key]) {
        groups[key] = { kind: "rubric-group", rater: item.rater, rationale: item.rationale, items: [] };
        out.push(groups[key]);
      }
      groups[key].items.push(item);
    });
    return out;
  }

  function rubricBlock(group) {
    var scale = function (item) {
      return item.scale !== undefined && item.scale !== null ? " / " + fmtValue(Array.isArray(item.scale) ? item.scale[item.scale.length - 1] : item.scale) : "";
    };
    var scores = group.items.map(function (item) {
      return fmtValue(item.dimension || "overall") + " " + fmtValue(item.score) + scale(item);
    }).join(" · ");
    return h("div", { class: "fb-inline", data: { feedback: "rubric" } },
      h("b", { text: "rubric" + (group.rater !== undefined && group.rater !== null ? " by " + fmtValue(group.rater) : "") }),
      h("div", { text: scores }),
      group.rationale ? h("details", null, h("summary", { text: "rationale" }), h("div", { text: fmtValue(group.rationale) })) : null);
  }

  /* Attach feedback to a message: `message` (index into messages) or `turn` (user turn). */
  function byUserTools(m) {
    return !!(m && m.meta && typeof m.meta === "object" && m.meta.by === "user");
  }

  function feedbackPlacement(detail) {
    var byMessage = {}, rest = [];
    var userAt = [];
    (detail.messages || []).forEach(function (m, i) { if (m.role === "user" && !byUserTools(m)) userAt.push(i); });
    (detail.feedback || []).forEach(function (item) {
      var at = null;
      if (isNum(item.message) && item.message >= 0 && item.message < (detail.messages || []).length) at = item.message;
      else if (isNum(item.turn) && item.turn >= 0 && item.turn < userAt.length) at = userAt[item.turn];
      if (at === null) rest.push(item);
      else (byMessage[at] = byMessage[at] || []).push(item);
    });
    return { byMessage: byMessage, rest: rest };
  }

  function addMessageBody(box, m) {
    var hasCalls = Array.isArray(m.tool_calls) && m.tool_calls.length;
    if (m.content || !hasCalls) {
      box.appendChild(h("div", { class: "bubble" + (m.content ? "" : " empty-text"), text: m.content || "(empty)" }));
    }
    if (hasCalls) {
      m.tool_calls.forEach(function (c) {
        box.appendChild(h("div", { class: "call" }, "→ ", h("b", { text: str(c.name) || "tool" }), "(" + str(c.arguments) + ")"));
      });
    }
  }

  /* The candidates a best-of-n target wrote for this turn, the one chosen marked, and
     the knockout that chose it (candidates are numbered from 1). */
  function candidatesBlock(b) {
    var list = Array.isArray(b.candidates) ? b.candidates : [];
    var chosen = isNum(b.chosen) ? b.chosen : null;
    var head = "best of " + fmtInt(isNum(b.n) ? b.n : list.length) +
      (chosen !== null ? ": candidate " + (chosen + 1) + " chosen" : "") +
      (b.rater ? " by " + fmtValue(b.rater) : "");
    var items = list.map(function (c, i) {
      var box = h("li", { class: "candidate" + (i === chosen ? " chosen" : ""), data: { candidate: i, chosen: i === chosen ? "yes" : "no" } },
        h("div", { class: "who-line" }, h("b", { text: "candidate " + (i + 1) }), i === chosen ? h("span", { class: "pill success", text: "chosen" }) : null));
      addMessageBody(box, c);
      return box;
    });
    var rounds = (b.comparisons || []).map(function (c) {
      var a = isNum(c.champion) ? c.champion + 1 : "?", z = isNum(c.challenger) ? c.challenger + 1 : "?";
      var verdict = c.verdict === "A" ? a + " wins" : c.verdict === "B" ? z + " wins" : c.verdict === "tie" ? "tie (" + a + " stays)" : "no verdict";
      return h("li", { text: a + " vs " + z + ": " + verdict });
    });
    return h("details", { class: "candidates", data: { candidates: list.length } },
      h("summary", { text: head }),
      h("ol", { class: "candidate-list" }, items),
      rounds.length ? h("div", { class: "muted", text: "knockout" }) : null,
      rounds.length ? h("ul", { class: "knockout" }, rounds) : null,
      b.error ? h("div", { class: "note", text: "the rater failed, so the first candidate stands: " + fmtValue(b.error) }) : null);
  }

  function chatView(run, index, detail, opts) {
    opts = opts || {};
    var persona = personaOf(run, index);
    var row = run.rows[index];
    var messages = detail.messages || [];
    var chat = h("div", { class: "chat", data: { chat: run.key } });
    if (!messages.length) {
      chat.classList.add("empty");
      chat.appendChild(h("p", { text: "No messages in this episode." }));
    }
    var guards = {};
    (detail.guard_events || []).forEach(function (e) {
      if (isNum(e.turn)) (guards[e.turn] = guards[e.turn] || []).push(e);
    });
    var placed = feedbackPlacement(detail);
    var userTurn = -1;
    messages.forEach(function (m, i) {
      var role = m.role === "user" || m.role === "assistant" || m.role === "tool" ? m.role : "other";
      // the simulated user's call of their own tools, or its result: never shown to the agent
      var ownTools = byUserTools(m);
      if (role === "user" && !ownTools) userTurn++;
      var who = role === "user" ? personaLabel(persona)
        : role === "assistant" ? (str(row[F.target]) || "assistant")
        : role === "tool" ? "tool" + (m.name ? " · " + m.name : "")
        : str(m.role);
      var meta = m.meta && typeof m.meta === "object" ? m.meta : {};
      var turnBox = h("div", { class: "turn " + role + (ownTools ? " by-user" : ""), data: { role: str(m.role), message: i } });
      turnBox.appendChild(h("div", { class: "who-line" }, h("b", { text: who }),
        ownTools ? h("span", { class: "chip unseen", title: "the simulated user's own tool: kept in the record, not part of the agent's conversation", text: "on the user's device — not seen by the agent" })
          : role === "user" ? h("span", { text: "turn " + (userTurn + 1) }) : null));
      addMessageBody(turnBox, m);
      if (m.best_of_n) turnBox.appendChild(candidatesBlock(m.best_of_n));
      var notesLine = [];
      if (role === "user" && !ownTools) {
        if (meta.act) notesLine.push(String(meta.act));
        if (meta.fact) notesLine.push("tells a hidden fact");
        if (isNum(meta.frustration) && meta.frustration > 0) notesLine.push("frustration " + fmtNum(meta.frustration, 2));
      } else if (isNum(meta.latency_s) && meta.latency_s >= 0.05) {
        notesLine.push(fmtNum(meta.latency_s, 1) + " s");
      }
      if (m.tool_call_id) notesLine.push("call " + str(m.tool_call_id));
      var chips = [];
      if (role === "user" && !ownTools && guards[userTurn]) {
        guards[userTurn].forEach(function (e) {
          chips.push(h("span", { class: "chip " + (e.action === "fallback" ? "fallback" : "guard"), data: { guard: str(e.guard) }, title: fmtValue(e.detail), text: "⚠ " + str(e.guard) + " · " + str(e.action) }));
        });
      }
      var inline = placed.byMessage[i] || [];
      inline.forEach(function (item) {
        if (item.kind === "implicit") {
          (item.signals || []).forEach(function (sig) {
            chips.push(h("span", { class: "chip signal", data: { signal: signalName(sig) }, title: "implicit signal" + (item.rater ? " · " + fmtValue(item.rater) : ""), text: signalName(sig) }));
          });
        }
      });
      if (chips.length) turnBox.appendChild(h("div", { class: "annotations" }, chips));
      inline.forEach(function (item) { if (item.kind !== "implicit") turnBox.appendChild(feedbackBlock(item, run.key, index)); });
      if (notesLine.length) turnBox.appendChild(h("div", { class: "turn-meta", text: notesLine.join(" · ") }));
      chat.appendChild(turnBox);
    });
    var end = h("div", { class: "chat-end" },
      h("span", { class: "pill " + row[F.outcome], text: row[F.outcome] }),
      row[F.stop] ? h("span", { text: "stopped: " + row[F.stop] }) : null);
    chat.appendChild(end);
    if (placed.rest.length && !opts.compact) {
      chat.appendChild(h("h3", { style: { margin: "14px 0 4px" }, text: "Rater feedback" }));
      groupRubrics(placed.rest).forEach(function (item) {
        chat.appendChild(item.kind === "rubric-group" ? rubricBlock(item) : feedbackBlock(item, run.key, index));
      });
    }
    return chat;
  }

  function neighbours(run, index) {
    var list = filteredIndices(run);
    var at = list.indexOf(index);
    if (at < 0) return { prev: index > 0 ? index - 1 : null, next: index < run.rows.length - 1 ? index + 1 : null, at: index, total: run.rows.length };
    return { prev: at > 0 ? list[at - 1] : null, next: at < list.length - 1 ? list[at + 1] : null, at: at, total: list.length };
  }

  function viewEpisode(run, index) {
    var persona = personaOf(run, index);
    var task = taskOf(run, index);
    var near = neighbours(run, index);
    var head = h("div", { class: "ep-head" },
      h("button", { type: "button", class: "btn", data: { action: "back" }, text: "← Episodes", onclick: function () { go("#/episodes"); } }),
      h("h1", null, h("span", { text: personaLabel(persona) }), h("span", { class: "arrow", text: "→" }), h("span", { text: str(task.id) || "task" })),
      h("span", { class: "muted nowrap", text: (near.at + 1) + " of " + fmtInt(near.total) }),
      h("button", { type: "button", class: "btn", disabled: near.prev === null, data: { action: "prev" }, text: "← Prev", onclick: function () { go("#/episode/" + run.key + "/" + near.prev); } }),
      h("button", { type: "button", class: "btn", disabled: near.next === null, data: { action: "next" }, text: "Next →", onclick: function () { go("#/episode/" + run.key + "/" + near.next); } }));
    var main = h("div", null, h("div", { class: "chat" }, h("p", { class: "muted", text: "Loading the conversation…" })));
    var side = h("div", { class: "side" }, goalPanel(task, null), personaPanel(persona), outcomePanel(run, index, null));
    var layout = h("div", { class: "ep-layout" }, main, side);
    episodeDetail(run, index).then(function (detail) {
      if (route().name !== "episode" || route().index !== index) return;
      clear(main).appendChild(chatView(run, index, detail));
      clear(side);
      add(side, [goalPanel(task, detail), personaPanel(persona), outcomePanel(run, index, detail), judgePanel(detail), guardPanel(detail), extraPanel(detail)]);
      document.body.setAttribute("data-episode-loaded", String(index));
    }, function (err) {
      clear(main).appendChild(h("div", { class: "note", text: "Could not load this conversation: " + err.message }));
    });
    return [head, layout];
  }

  // ---------------------------------------------------------------- feedback

  function estimateRow(label, e, extra) {
    return { label: label, n: e && e.n, series: [Object.assign({ value: e && e.value, low: e && e.low, high: e && e.high }, extra || {})] };
  }

  function viewFeedback(run) {
    var fb = run.feedback;
    var out = [];
    var cards = [card("items", "Feedback items", fmtInt(fb.items), h("div", { class: "sub", text: fb.raters ? plural(fb.raters, "rater") : "" }))];
    Object.keys(fb.kinds || {}).forEach(function (kind) {
      cards.push(card("kind-" + kind, kind, fmtInt(fb.kinds[kind])));
    });
    out.push(h("div", { class: "cards" }, cards));
    var grid = h("div", { class: "grid" });
    (fb.wins || []).forEach(function (win) {
      var body = [];
      var v = win.verdicts || {};
      var total = (v.A || 0) + (v.B || 0) + (v.tie || 0);
      if (total) {
        var seg = function (cls, n, label) {
          return n ? h("div", { class: cls, style: { width: fmtPct(n / total, 3) }, title: label + ": " + n, text: fmtPct(n / total, 0) }) : null;
        };
        body.push(h("div", { class: "split", data: { split: "verdicts" } }, seg("a", v.A || 0, win.label_a + " wins"), seg("tie", v.tie || 0, "ties"), seg("b", v.B || 0, win.label_b + " wins")));
        body.push(legend([["", win.label_a + " wins " + fmtInt(v.A || 0)], ["unscored", "ties " + fmtInt(v.tie || 0)], ["b", win.label_b + " wins " + fmtInt(v.B || 0)]]));
        body.push(h("div", { style: { height: "14px" } }));
      }
      var rows = [];
      if (win.overall) rows.push(estimateRow("win rate", win.overall));
      if (win.lc && win.lc.win_rate) rows.push(estimateRow("length-controlled", win.lc.win_rate, { cls: "b" }));
      (win.by_rater || []).forEach(function (r) { rows.push(estimateRow("rater " + r.label, r, { cls: "neutral" })); });
      if (rows.length) body.push(barChart(rows, { ref: 0.5, format: function (x) { return fmtPct(x, 1); } }));
      var hint = "share of pairs " + win.label_a + " wins over " + win.label_b + ", ties half; dashed line: 50%";
      if (win.lc && win.lc.slope && isNum(win.lc.slope.value)) hint += "; length slope " + fmtNum(win.lc.slope.value, 2) + " per SD";
      if (win.lc && win.lc.warning) body.push(h("div", { class: "note", data: { note: "lc-extrapolates" }, text: win.lc.warning }));
      grid.appendChild(panel("Win rate" + (win.pairing ? " · " + win.pairing + " pairs" : ""), hint, body, { id: "win" + (win.pairing ? "-" + win.pairing : "") }));
    });
    var biasRows = (fb.bias || []).map(function (b) { return estimateRow(b.label, b); });
    if (fb.swap && fb.swap.consistency) biasRows.push(estimateRow("Swap consistency", fb.swap.consistency, { cls: "success" }));
    var other = (fb.other || []).filter(function (o) { return [o.value, o.low, o.high].every(function (x) { return x === null || x === undefined || (x >= 0 && x <= 1); }); });
    other.forEach(function (o) { biasRows.push(estimateRow(o.label, o, { cls: "neutral" })); });
    if (biasRows.length) {
      var notesList = (fb.bias || []).map(function (b) { return h("li", { text: b.label + ": " + b.note }); });
      if (fb.swap) {
        var sw = fb.swap;
        notesList.push(h("li", { text: "Swap consistency: same verdict with the two responses swapped" + (isNum(sw.first_position) ? "; first shown won both orders " + fmtPct(sw.first_position, 0) + ", second shown " + fmtPct(sw.second_position, 0) : "") }));
      }
      grid.appendChild(panel("Bias diagnostics", null, [
        barChart(biasRows, { ref: 0.5, format: function (x) { return fmtPct(x, 1); } }),
        notesList.length ? h("ul", { class: "plain muted", style: { "margin-top": "12px", "font-size": "12.5px" } }, notesList) : null,
      ], { id: "bias" }));
    }
    var numberTable = function (rows, id) {
      return h("table", { class: "data", data: { table: id } },
        h("thead", null, h("tr", null, h("th", { text: "measure" }), h("th", { class: "num", text: "value" }), h("th", { class: "num", text: "95% CI" }), h("th", { class: "num", text: "n" }))),
        h("tbody", null, rows.map(function (a) {
          var flat = degenerate(a);
          return h("tr", null, h("td", { text: a.label }), h("td", { class: "num", text: Number.isInteger(a.value) ? fmtInt(a.value) : fmtNum(a.value, 3) }),
            h("td", { class: "num" + (flat ? " degenerate" : ""), text: flat ? "none (no spread)" : isNum(a.low) ? fmtNum(a.low, 3) + " – " + fmtNum(a.high, 3) : "" }), h("td", { class: "num", text: isNum(a.n) ? fmtInt(a.n) : "" }));
        })));
    };
    if (fb.agreement && fb.agreement.length) {
      grid.appendChild(panel("Agreement", "between raters (and with humans, where the summary has it)", numberTable(fb.agreement, "agreement"), { id: "agreement" }));
    }
    /* estimates of the feedback summary that are not shares (a length coefficient, say):
       numbers of their own, not agreement between raters */
    var numbersOnly = (fb.other || []).filter(function (o) { return other.indexOf(o) < 0; });
    if (numbersOnly.length) {
      grid.appendChild(panel("Other estimates", "further numbers of the feedback summary, under their names there", numberTable(numbersOnly, "other-estimates"), { id: "other-estimates" }));
    }
    if (fb.rubric && fb.rubric.length) {
      var rubricRows = fb.rubric.map(function (r) {
        var lo = isNum(r.scale_low) ? r.scale_low : 0, hi = isNum(r.scale_high) ? r.scale_high : null;
        var norm = function (x) { return isNum(x) && hi !== null ? (x - lo) / (hi - lo) : x; };
        return { label: r.label, n: r.n, series: [{ value: norm(r.mean), low: norm(r.low), high: norm(r.high), raw: r.mean, hi: hi }] };
      });
      var allScaled = fb.rubric.every(function (r) { return isNum(r.scale_high); });
      grid.appendChild(panel("Rubric scores", "mean score per dimension" + (allScaled ? ", as a share of the scale" : ""), barChart(rubricRows, {
        format: allScaled ? function (x) { return fmtPct(x, 0); } : function (x) { return fmtNum(x, 2); },
        max: allScaled ? 1 : Math.max.apply(null, fb.rubric.map(function (r) { return r.high || r.mean || 1; })),
      }), { id: "rubric" }));
    }
    if (fb.signals && fb.signals.length) {
      var counts = {};
      fb.signals.forEach(function (s) { counts[s.label] = s.n; });
      grid.appendChild(panel("Implicit signals", "how often each signal was read from the users' turns", countBars(counts, "neutral"), { id: "signals" }));
    }
    out.push(grid);
    return out;
  }

  // ---------------------------------------------------------------- realism

  function meter(x) {
    if (!isNum(x)) return h("span", { class: "muted", text: "—" });
    var cls = x >= 0.8 ? "good" : x >= 0.6 ? "mid" : "low";
    return h("span", { class: "nowrap" }, h("span", { class: "meter " + cls }, h("span", { style: { width: fmtPct(clamp01(x), 1) } })), fmtPct(x, 0));
  }

  function viewRealism(run) {
    var f = run.fidelity;
    var out = [];
    var idx = function (e) { return e && isNum(e.value) ? e.value * 100 : null; };
    var overall = idx(f.overall), ceiling = idx(f.ceiling);
    var head = h("div", { class: "big-index" },
      h("span", { class: "value", data: { fidelity: "overall" }, text: overall === null ? "—" : overall.toFixed(1) }),
      h("span", { class: "of", text: "of 100" }),
      ceiling !== null ? h("span", { class: "muted", text: "· human-vs-human ceiling " + ceiling.toFixed(1) }) : null,
      f.ceiling_at_size && f.ceiling_at_size.index ? h("span", { class: "muted", data: { fidelity: "at-size" }, text: "· " + fmtInt(f.ceiling_at_size.size) + " real conversations reach " + idx(f.ceiling_at_size.index).toFixed(1) }) : null,
      f.overall && isNum(f.overall.low) && isNum(f.overall.high) ? h("span", { class: "muted", text: "· 95% CI " + (f.overall.low * 100).toFixed(1) + " – " + (f.overall.high * 100).toFixed(1) }) : null,
      f.compare && f.compare.index ? h("span", { class: "muted", text: "· compared run " + (f.compare.run || "") + ": " + idx(f.compare.index).toFixed(1) }) : null);
    var bar = overall !== null ? barChart([{ label: "realism index", series: [{ value: overall / 100, cls: "success" }] }], { ref: ceiling !== null ? ceiling / 100 : null, format: function (x) { return (x * 100).toFixed(1); } }) : null;
    var counts = (f.counts || []).map(function (c) { return c.label + " " + fmtInt(c.value); }).join(" · ");
    out.push(h("div", { class: "grid" }, panel("Realism", "how close the simulated users behave to real ones (100 = indistinguishable)" + (ceiling !== null ? "; dashed line: what two halves of the human data reach against each other" : ""),
      [head, bar, counts ? h("p", { class: "muted", style: { margin: "10px 0 0", "font-size": "12.5px" }, text: counts }) : null], { id: "fidelity", wide: true })));
    if (f.dimensions.length) {
      var withCeiling = f.dimensions.some(function (d) { return d.ceiling; });
      var withCompare = f.dimensions.some(function (d) { return d.compare; });
      var atSize = f.ceiling_at_size ? f.ceiling_at_size.size : null;
      var body = h("tbody");
      f.dimensions.forEach(function (d) {
        body.appendChild(h("tr", { class: "group", data: { dimension: d.name } },
          h("td", { colspan: "3", text: d.name }),
          h("td", null, d.score ? meter(d.score.value) : null),
          atSize !== null ? h("td") : null,
          withCeiling ? h("td", { class: "num", text: d.ceiling ? (d.ceiling.value * 100).toFixed(1) : "" }) : null,
          withCompare ? h("td", null, d.compare ? meter(d.compare.value) : null) : null));
        d.features.forEach(function (feat) {
          body.appendChild(h("tr", { data: { feature: feat.name } },
            h("td", { style: { "padding-left": "20px" } }, feat.name, feat.metric ? h("span", { class: "faint", text: " · " + feat.metric }) : null),
            h("td", { class: "num", text: fmtValue(feat.simulated) }),
            h("td", { class: "num", text: fmtValue(feat.human) }),
            h("td", null, meter(feat.similarity && feat.similarity.value)),
            atSize !== null ? h("td", { class: "num", text: feat.at_size ? feat.at_size.value.toFixed(2) : "" }) : null,
            withCeiling ? h("td") : null,
            withCompare ? h("td") : null));
        });
      });
      out.push(h("div", { class: "panel", style: { "margin-top": "14px" }, data: { panel: "fidelity-table" } },
        h("table", { class: "data", data: { table: "fidelity" } },
          h("thead", null, h("tr", null, h("th", { text: "dimension · feature" }), h("th", { class: "num", text: "simulated" }), h("th", { class: "num", text: "human" }), h("th", { text: "similarity" }),
            atSize !== null ? h("th", { class: "num", title: "the similarity samples of as many real conversations as the run reach against the rest of the corpus", text: "real, " + atSize }) : null,
            withCeiling ? h("th", { class: "num", text: "ceiling" }) : null,
            withCompare ? h("th", { text: "compared run" }) : null)),
          body)));
    }
    if (f.distributions && f.distributions.length) {
      var keys = [];
      f.distributions.forEach(function (d) { Object.keys(d.values).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
      out.push(h("div", { class: "panel", style: { "margin-top": "14px" }, data: { panel: "distributions" } },
        h("div", { class: "panel-head" }, h("h2", { text: "Distributions" }), h("div", { class: "hint", text: "distance between the simulated and the human distribution of each quantity" })),
        h("table", { class: "data" },
          h("thead", null, h("tr", null, h("th", { text: "quantity" }), keys.map(function (k) { return h("th", { class: "num", text: k.replace(/_/g, " ") }); }))),
          h("tbody", null, f.distributions.map(function (d) {
            return h("tr", null, h("td", { text: d.name.replace(/_/g, " ") }), keys.map(function (k) { return h("td", { class: "num", text: fmtNum(d.values[k]) }); }));
          })))));
    }
    if (f.openers && ((f.openers.top || []).length || (f.openers.canned || []).length)) {
      var openerRows = function (rows, table) {
        return h("table", { class: "data", data: { table: table } },
          h("thead", null, h("tr", null, h("th", { text: "opener" }), h("th", { class: "num", text: "share of user turns" }))),
          h("tbody", null, rows.map(function (o) {
            return h("tr", null, h("td", { text: o.label }), h("td", { class: "num", text: fmtPct(o.share, 1) }));
          })));
      };
      var parts = [];
      if ((f.openers.top || []).length) parts.push(openerRows(f.openers.top, "openers"));
      if ((f.openers.canned || []).length) {
        parts.push(h("p", { class: "muted", style: { margin: "10px 0 4px" }, text: "stock phrases of the simulator" }));
        parts.push(openerRows(f.openers.canned, "canned-openers"));
      }
      out.push(h("div", { class: "grid", style: { "margin-top": "14px" } }, panel("Openers", "the commonest first words of the simulated users' turns (formulaic users repeat them)", parts, { id: "openers" })));
    }
    var notesList = (f.notes || []).slice();
    if (f.classifier) notesList.push("assistant-likeness: " + f.classifier);
    if (notesList.length) out.push(h("ul", { class: "plain muted", style: { "margin-top": "12px", "font-size": "12.5px" } }, notesList.map(function (n) { return h("li", { text: n }); })));
    return out;
  }

  // ---------------------------------------------------------------- comparison

  function viewCompare() {
    var A = S.runs[S.order[0]], B = S.runs[S.order[1]];
    var cmp = S.data.compare;
    var sa = A.summary || {}, sb = B.summary || {};
    var rows = [];
    /* better: 1 when higher is better, -1 when lower is, 0 when neither */
    function metric(label, a, b, format, pct, better, ci) {
      var d = isNum(a) && isNum(b) ? b - a : null;
      var good = d !== null && Math.abs(d) > 1e-9 && better ? (d > 0) === (better > 0) : null;
      rows.push(h("tr", { data: { metric: label } },
        h("td", { text: label }),
        h("td", { class: "num" }, format(a), ci && ci[0] ? h("div", { class: "faint", text: ci[0] }) : null),
        h("td", { class: "num" }, format(b), ci && ci[1] ? h("div", { class: "faint", text: ci[1] }) : null),
        h("td", { class: "num " + (good === null ? "" : good ? "delta-pos" : "delta-neg"), text: d === null ? "—" : fmtDelta(d, pct) })));
    }
    metric("episodes", sa.episodes, sb.episodes, fmtInt, false, 0);
    metric("scored", sa.scored, sb.scored, fmtInt, false, 0);
    var succA = sa.success || {}, succB = sb.success || {};
    metric("success", succA.value, succB.value, fmtPct, true, 1, [fmtCI(succA), fmtCI(succB)]);
    var pa = (A.pass_hat_k && A.pass_hat_k.points) || [], pb = (B.pass_hat_k && B.pass_hat_k.points) || [];
    pa.forEach(function (p) {
      var q = pb.filter(function (x) { return x.k === p.k; })[0];
      if (q) metric("pass^" + p.k, p.value, q.value, fmtPct, true, 1);
    });
    A.extra_metrics.forEach(function (e) {
      var other = B.extra_metrics.filter(function (x) { return x.key === e.key; })[0];
      var better = e.better === 1 ? 1 : -1;
      if (other) metric(e.label, e.value, other.value, function (x) { return fmtNum(x, e.unit === "percent" ? 1 : 3); }, false, better);
    });
    metric("mean user turns", sa.mean_user_turns, sb.mean_user_turns, function (x) { return fmtNum(x, 2); }, false, 0);
    metric("tokens", sa.tokens, sb.tokens, fmtInt, false, 0);
    metric("errors", sa.errors, sb.errors, fmtInt, false, -1);
    metric("guard events", sa.guard_events && sa.guard_events.total, sb.guard_events && sb.guard_events.total, fmtInt, false, -1);
    var table = h("table", { class: "data", data: { table: "compare" } },
      h("thead", null, h("tr", null, h("th", { text: "measure" }),
        h("th", { class: "num" }, h("span", { class: "run-dot" }), " A · ", A.name),
        h("th", { class: "num" }, h("span", { class: "run-dot b" }), " B · ", B.name),
        h("th", { class: "num", text: "B − A" }))),
      h("tbody", null, rows));
    var c = cmp.counts;
    var quad = h("div", { class: "quad", data: { quad: "" } },
      [["both", "both succeed"], ["a_only", "only A succeeds"], ["b_only", "only B succeeds"], ["neither", "neither succeeds"]].map(function (q) {
        return h("div", { data: { count: q[0] } }, h("div", { class: "k", text: q[1] }), h("div", { class: "v", text: fmtInt(c[q[0]]) }));
      }));
    var diff = cmp.difference;
    var matchedText = plural(cmp.pairs.length, "matched episode") + " (persona × task × mode × repeat)" +
      (cmp.unmatched_a || cmp.unmatched_b ? "; unmatched: " + fmtInt(cmp.unmatched_a) + " in A, " + fmtInt(cmp.unmatched_b) + " in B" : "") +
      (c.other ? "; " + fmtInt(c.other) + " with an error or no score" : "");
    var diffCI = fmtCI(diff, function (x) { return fmtDelta(x, true); });
    var diffLine = diff && isNum(diff.value) ? h("p", { style: { margin: "12px 0 0" }, data: { difference: "" } }, "Paired difference in success, B − A: ",
      h("b", { class: diff.value > 0 ? "delta-pos" : diff.value < 0 ? "delta-neg" : "", text: fmtDelta(diff.value, true) }),
      diffCI ? h("span", { class: degenerate(diff) ? "degenerate" : "muted", data: { ci: degenerate(diff) ? "degenerate" : "interval" },
        text: " (" + diffCI + (degenerate(diff) ? ")" : ", bootstrap over tasks)") }) : null) : null;
    var grid = h("div", { class: "grid" },
      panel("Side by side", null, table, { id: "compare-metrics" }),
      panel("Matched episodes", matchedText, [quad, diffLine], { id: "compare-matched" }),
      raterPanel(A, B, cmp.raters),
      compareBreakdown(A, B, "persona", "Success by persona"),
      compareBreakdown(A, B, "task", "Success by task"));
    return [grid, h("div", { class: "section-title", text: "Matched episodes" }), pairList(A, B)];
  }

  /* What `simulacra compare A B` found: the raters' win rate of A, plain and
     length-controlled, each with its interval (computed by the feedback layer). */
  function raterPanel(A, B, r) {
    if (!r) {
      return panel("Rater preference", null, h("p", { class: "muted", data: { note: "no-compare" } },
        "No rater comparison of these runs yet: simulacra compare " + A.dir + " " + B.dir + " judges each matched pair and adds the raters' win rates here."), { id: "compare-raters" });
    }
    var body = [];
    var total = (r.wins_a || 0) + (r.wins_b || 0) + (r.ties || 0);
    if (total) {
      var seg = function (cls, n, label) {
        return n ? h("div", { class: cls, style: { width: fmtPct(n / total, 3) }, title: label + ": " + n, text: fmtPct(n / total, 0) }) : null;
      };
      body.push(h("div", { class: "split", data: { split: "verdicts" } }, seg("a", r.wins_a || 0, "A wins"), seg("tie", r.ties || 0, "ties"), seg("b", r.wins_b || 0, "B wins")));
      body.push(legend([["", "A wins " + fmtInt(r.wins_a || 0)], ["unscored", "ties " + fmtInt(r.ties || 0)], ["b", "B wins " + fmtInt(r.wins_b || 0)]]));
      body.push(h("div", { style: { height: "14px" } }));
    }
    var lc = r.length_controlled && r.length_controlled.win_rate;
    var rows = [];
    if (r.win_rate) rows.push(estimateRow("win rate of A", r.win_rate));
    if (lc) rows.push(estimateRow("length-controlled", lc, { cls: "b" }));
    if (rows.length) body.push(barChart(rows, { ref: 0.5, format: function (x) { return fmtPct(x, 1); } }));
    var lines = [["win-rate", "Win rate of A", r.win_rate], ["lc-win-rate", "Length-controlled win rate of A", lc]].filter(function (x) { return x[2] && isNum(x[2].value); });
    if (lines.length) {
      body.push(h("dl", { class: "kv", style: { "margin-top": "12px" } }, lines.map(function (x) {
        var ci = fmtCI(x[2], null, "item");
        return [h("dt", { text: x[1] }), h("dd", { data: { rate: x[0] } }, h("b", { text: fmtPct(x[2].value, 1) }),
          ci ? h("span", { class: degenerate(x[2]) ? "degenerate" : "muted", data: { ci: degenerate(x[2]) ? "degenerate" : "interval" }, text: " (" + ci + ")" }) : null)];
      })));
    }
    if (r.length_controlled && r.length_controlled.warning) body.push(h("div", { class: "note", data: { note: "lc-extrapolates" }, text: r.length_controlled.warning }));
    var hint = "share of matched pairs the raters prefer A, ties half; dashed line: 50%" +
      (isNum(r.items) ? "; " + plural(r.items, "pair") : "") + (r.abstained ? ", " + fmtInt(r.abstained) + " abstained" : "") +
      (r.raters && r.raters.length ? "; raters: " + r.raters.join(", ") : "");
    return panel("Rater preference", hint, body, { id: "compare-raters" });
  }

  function compareBreakdown(A, B, kind, title) {
    var la = (A.breakdowns && A.breakdowns[kind]) || [], lb = (B.breakdowns && B.breakdowns[kind]) || [];
    var keys = la.map(function (b) { return b.key; }).filter(function (k) { return lb.some(function (b) { return b.key === k; }); });
    if (!keys.length) return null;
    var stateKey = "cmp:" + kind;
    var chosen = keys.indexOf(S.attr[stateKey]) >= 0 ? S.attr[stateKey] : keys.indexOf(kind === "persona" ? "expertise" : "suite") >= 0 ? (kind === "persona" ? "expertise" : "suite") : keys[0];
    var body = h("div");
    function draw(key) {
      var ba = la.filter(function (b) { return b.key === key; })[0], bb = lb.filter(function (b) { return b.key === key; })[0];
      var labels = [];
      ba.groups.concat(bb.groups).forEach(function (g) { if (labels.indexOf(g.label) < 0) labels.push(g.label); });
      var find = function (groups, label) { return groups.filter(function (g) { return g.label === label; })[0] || {}; };
      clear(body);
      body.appendChild(barChart(labels.map(function (label) {
        var ga = find(ba.groups, label), gb = find(bb.groups, label);
        return { label: label, series: [
          { name: "A", value: ga.value, low: ga.low, high: ga.high },
          { name: "B", value: gb.value, low: gb.low, high: gb.high, cls: "b" }] };
      })));
      body.appendChild(legend([["", "A · " + A.name], ["b", "B · " + B.name]]));
    }
    var select = h("select", { "aria-label": title + " by", data: { breakdown: "compare-" + kind } }, keys.map(function (k) {
      var label = la.filter(function (b) { return b.key === k; })[0].label;
      return h("option", { value: k, selected: k === chosen, text: label });
    }));
    select.addEventListener("change", function () { S.attr[stateKey] = select.value; draw(select.value); });
    draw(chosen);
    return panel(title, null, body, { control: h("label", { class: "muted" }, "by ", select), id: "compare-breakdown-" + kind });
  }

  function relation(A, B, pair) {
    var oa = A.rows[pair[0]][F.outcome], ob = B.rows[pair[1]][F.outcome];
    var scored = function (o) { return o === "success" || o === "failure"; };
    if (!scored(oa) || !scored(ob)) return "other";
    if (oa === ob) return oa === "success" ? "both" : "neither";
    return oa === "success" ? "a_only" : "b_only";
  }

  function pairList(A, B) {
    var pf = S.pairFilter;
    var holder = h("div", { id: "pair-list" });
    var counter = h("span", { class: "result-count", id: "pair-count" });
    var select = function (key, label, options) {
      var el = h("select", { "aria-label": label, data: { pairfilter: key } }, options.map(function (o) { return h("option", { value: o[0], selected: pf[key] === o[0], text: o[1] }); }));
      el.addEventListener("change", function () { pf[key] = el.value; S.pairPage = 0; draw(); });
      return h("label", null, label, el);
    };
    var bar = h("div", { class: "filters" },
      select("relation", "Outcomes", [["all", "all"], ["differ", "differ"], ["a_only", "only A succeeds"], ["b_only", "only B succeeds"], ["both", "both succeed"], ["neither", "neither succeeds"]]),
      select("persona", "Persona", [["", "all"]].concat(A.personaOptions.map(function (o) { return [o.value, o.label]; }))),
      select("task", "Task", [["", "all"]].concat(A.taskOptions.map(function (t) { return [t, t]; }))),
      h("span", { class: "grow" }), counter);
    function draw() {
      var pairs = S.data.compare.pairs;
      var chosen = [];
      pairs.forEach(function (p, n) {
        var rel = relation(A, B, p);
        if (pf.relation === "differ" && rel !== "a_only" && rel !== "b_only") return;
        if (pf.relation !== "all" && pf.relation !== "differ" && rel !== pf.relation) return;
        if (pf.persona && A.personaNames[A.rows[p[0]][F.persona]] !== pf.persona) return;
        if (pf.task && A.taskIds[A.rows[p[0]][F.task]] !== pf.task) return;
        chosen.push(n);
      });
      var pages = Math.max(1, Math.ceil(chosen.length / PAGE_SIZE));
      S.pairPage = Math.min(S.pairPage, pages - 1);
      counter.textContent = plural(chosen.length, "pair");
      var body = h("tbody");
      chosen.slice(S.pairPage * PAGE_SIZE, (S.pairPage + 1) * PAGE_SIZE).forEach(function (n) {
        var p = pairs[n], ra = A.rows[p[0]], rb = B.rows[p[1]];
        var persona = A.personas[ra[F.persona]] || {};
        var tr = h("tr", { tabindex: "0", data: { pair: n } },
          h("td", { class: "who", text: personaLabel(persona) }),
          h("td", { text: A.taskIds[ra[F.task]] + (ra[F.repeat] ? " #" + ra[F.repeat] : "") }),
          h("td", null, h("span", { class: "pill " + ra[F.outcome], text: ra[F.outcome] })),
          h("td", null, h("span", { class: "pill " + rb[F.outcome], text: rb[F.outcome] })),
          h("td", { class: "num", text: fmtInt(ra[F.turns]) + " / " + fmtInt(rb[F.turns]) }),
          h("td", { class: "preview", text: ra[F.preview] }));
        var open = function () { go("#/pair/" + n); };
        tr.addEventListener("click", open);
        tr.addEventListener("keydown", function (e) { if (e.key === "Enter") open(); });
        body.appendChild(tr);
      });
      if (!chosen.length) body.appendChild(h("tr", null, h("td", { class: "empty", colspan: "6", text: "No matched pair fits these filters." })));
      clear(holder);
      holder.appendChild(h("div", { class: "list" }, h("table", { data: { list: "pairs" } },
        h("thead", null, h("tr", null,
          h("th", { style: { width: "17%" }, text: "Persona" }), h("th", { style: { width: "17%" }, text: "Task" }),
          h("th", { style: { width: "100px" }, text: "A" }), h("th", { style: { width: "100px" }, text: "B" }),
          h("th", { style: { width: "90px" }, class: "num", text: "Turns A / B" }), h("th", { text: "First user turn (A)" }))),
        body)));
      holder.appendChild(h("div", { class: "pager" },
        h("button", { type: "button", class: "btn", disabled: S.pairPage === 0, text: "← Previous", onclick: function () { S.pairPage--; draw(); } }),
        h("span", { text: "page " + (S.pairPage + 1) + " of " + pages }),
        h("button", { type: "button", class: "btn", disabled: S.pairPage >= pages - 1, text: "Next →", onclick: function () { S.pairPage++; draw(); } })));
    }
    draw();
    return [bar, holder];
  }

  function viewPair(n) {
    var A = S.runs[S.order[0]], B = S.runs[S.order[1]];
    var pair = S.data.compare.pairs[n];
    var persona = personaOf(A, pair[0]), task = taskOf(A, pair[0]);
    var row = A.rows[pair[0]];
    var head = h("div", { class: "ep-head" },
      h("button", { type: "button", class: "btn", data: { action: "back" }, text: "← Compare", onclick: function () { go("#/compare"); } }),
      h("h1", null, h("span", { text: personaLabel(persona) }), h("span", { class: "arrow", text: "→" }), h("span", { text: str(task.id) + (row[F.repeat] ? " #" + row[F.repeat] : "") })),
      h("button", { type: "button", class: "btn", disabled: n === 0, data: { action: "prev" }, text: "← Prev", onclick: function () { go("#/pair/" + (n - 1)); } }),
      h("button", { type: "button", class: "btn", disabled: n >= S.data.compare.pairs.length - 1, data: { action: "next" }, text: "Next →", onclick: function () { go("#/pair/" + (n + 1)); } }));
    var strip = h("div", { class: "strip" },
      h("div", null, h("div", { class: "muted", text: "Hidden goal" }), h("div", { text: str(task.goal) })),
      h("div", null, h("div", { class: "muted", text: "Persona" }), h("div", { text: personaLabel(persona) + (persona.background ? " — " + str(persona.background) : "") })));
    var cols = [A, B].map(function (run, side) {
      var index = pair[side];
      var col = h("div", { data: { side: run.key } },
        h("div", { class: "col-head" }, h("span", { class: "run-dot" + (side ? " b" : "") }), (side ? "B · " : "A · ") + run.name,
          h("span", { class: "pill " + run.rows[index][F.outcome], text: run.rows[index][F.outcome] })),
        h("div", { class: "chat" }, h("p", { class: "muted", text: "Loading…" })));
      episodeDetail(run, index).then(function (detail) {
        if (route().name !== "pair" || route().index !== n) return;
        col.replaceChild(chatView(run, index, detail, { compact: true }), col.lastChild);
      }, function (err) {
        col.replaceChild(h("div", { class: "note", text: "Could not load: " + err.message }), col.lastChild);
      });
      return col;
    });
    return [head, strip, h("div", { class: "pair" }, cols)];
  }

  // ---------------------------------------------------------------- keys and live data

  function onKey(e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || e.altKey || e.ctrlKey || e.metaKey) return;
    var r = route();
    if (r.name === "episode" || r.name === "pair") {
      var selector = e.key === "ArrowLeft" ? '[data-action="prev"]' : e.key === "ArrowRight" ? '[data-action="next"]' : e.key === "Escape" ? '[data-action="back"]' : null;
      if (!selector) return;
      var button = document.querySelector(selector);
      if (button && !button.disabled) { e.preventDefault(); button.click(); }
    }
  }

  function updateLive() {
    var badge = byId("live-status");
    if (!badge) return;
    badge.className = "live" + (S.liveOk ? "" : " stale");
    badge.textContent = S.liveOk ? "live · updated " + clock(S.updated) : "live · server not answering";
  }

  function applyUpdate(obj) {
    var chunks = obj.chunks || {};
    setData(obj.data, function (key, i) { return chunks[key] ? chunks[key][i] : null; }, obj.data.version);
    var r = route();
    if (r.name === "episode" || r.name === "pair") {
      // keep the conversation the reader is on; refresh only the frame around it
      var app = byId("app");
      app.replaceChild(topbar(r), app.firstChild);
      app.replaceChild(tabs(r, S.runs[S.run]), app.children[1]);
    } else if (r.name === "episodes" && byId("episode-list")) {
      var app2 = byId("app");
      app2.replaceChild(tabs(r, S.runs[S.run]), app2.children[1]);
      refreshList(S.runs[S.run]);
      updateLive();
    } else {
      var y = window.scrollY;
      render();
      window.scrollTo(0, y);
    }
    document.documentElement.setAttribute("data-version", String(S.version));
  }

  function poll() {
    var interval = (S.data.live && S.data.live.interval_ms) || 2000;
    fetch("api/status", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (status) {
        S.liveOk = true;
        if (isNum(status.next_ms)) interval = Math.max(interval, status.next_ms);
        if (status.version === S.version) { updateLive(); return null; }
        return fetch("api/data", { cache: "no-store" })
          .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
          .then(applyUpdate);
      })
      .catch(function () { S.liveOk = false; updateLive(); })
      .then(function () { setTimeout(poll, interval); });
  }

  function boot() {
    var data = JSON.parse(byId("report-data").textContent);
    setData(data, function (key, i) {
      var el = byId("chunk-" + key + "-" + i);
      return el ? el.textContent : null;
    });
    window.addEventListener("hashchange", function () { render(); window.scrollTo(0, 0); });
    document.addEventListener("keydown", onKey);
    render();
    document.documentElement.setAttribute("data-version", String(S.version));
    if (window.performance && performance.mark) performance.mark("simulacra-rendered");
    if (data.live) setTimeout(poll, (data.live && data.live.interval_ms) || 2000);
  }

  try {
    boot();
  } catch (err) {
    var page = byId("page") || document.body;
    clear(page).appendChild(h("div", { class: "note", text: "The report could not be drawn: " + (err && err.message) }));
    throw err;
  }
})();
