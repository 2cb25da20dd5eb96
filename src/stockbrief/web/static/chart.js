// The ticker page's chart, drawn with the vendored lightweight-charts: candles with SMA 50/200
// and the ticker's event markers in the price pane, volume in a pane of its own below (two
// charts on one time axis), range buttons, a log scale and a comparison with the peer group and
// SPY rebased to 100. Text reaches the page only through textContent.
(function () {
  "use strict";
  const box = document.getElementById("price-chart");
  const volumeBox = document.getElementById("volume-chart");
  const legend = document.getElementById("chart-legend");
  const tooltip = document.getElementById("chart-tooltip");
  const keyList = document.getElementById("marker-legend");
  if (!box) return;
  const fail = function (why) {
    box.dataset.state = "error";
    legend.textContent = "The chart could not be drawn: " + why;
  };
  if (!window.LightweightCharts) return fail("lightweight-charts did not load");
  const LC = window.LightweightCharts;

  const css = function (name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  };
  const palette = function () {
    return {
      panel: css("--panel"), ink: css("--heading"), grid: css("--grid"), line: css("--line"),
      up: css("--up"), down: css("--down"), sma50: css("--sma50"), sma200: css("--sma200"),
      accent: css("--accent"), muted: css("--muted"),
    };
  };
  let colors = palette();
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = function (v) { return String(v).padStart(2, "0"); };
  const day = function (time) {  // The library may hand back a string, a BusinessDay or seconds.
    if (typeof time === "string") return time;
    if (typeof time === "number") return new Date(time * 1000).toISOString().slice(0, 10);
    return time.year + "-" + pad(time.month) + "-" + pad(time.day);
  };
  const parts = function (time) {
    const iso = day(time);
    return { year: Number(iso.slice(0, 4)), month: Number(iso.slice(5, 7)), day: Number(iso.slice(8, 10)) };
  };
  // Months on the time axis: "Mar" at a month's first session, the year at January's, and
  // days ("4 Mar") only when fewer than about four months are in view.
  let visibleBars = 260;
  const tick = function (time, type) {
    const p = parts(time);
    if (type === LC.TickMarkType.Year) return String(p.year);
    if (type === LC.TickMarkType.Month) return MONTHS[p.month - 1];
    return visibleBars <= 90 ? p.day + " " + MONTHS[p.month - 1] : "";
  };
  const base = function () {
    return {
      autoSize: true,
      layout: { background: { color: colors.panel }, textColor: colors.ink, fontSize: 12 },
      grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
      rightPriceScale: { borderColor: colors.line, minimumWidth: 72 },
      timeScale: { borderColor: colors.line, rightOffset: 3, tickMarkFormatter: tick },
      localization: { dateFormat: "yyyy-MM-dd" },
      crosshair: { mode: LC.CrosshairMode.Normal },
    };
  };
  const chart = LC.createChart(box, Object.assign(base(), {
    rightPriceScale: { borderColor: colors.line, minimumWidth: 72, scaleMargins: { top: 0.06, bottom: 0.06 } },
    timeScale: { visible: false, rightOffset: 3, tickMarkFormatter: tick },
  }));
  const volumeChart = LC.createChart(volumeBox, base());
  const candles = chart.addCandlestickSeries({});
  const line = { lineWidth: 2, priceLineVisible: false, lastValueVisible: false,
    crosshairMarkerVisible: false };
  const sma50 = chart.addLineSeries(Object.assign({ title: "SMA 50" }, line));
  const sma200 = chart.addLineSeries(Object.assign({ title: "SMA 200" }, line));
  const volume = volumeChart.addHistogramSeries({
    priceFormat: { type: "volume" }, priceLineVisible: false, lastValueVisible: false,
  });
  const lines = {};  // comparison lines by name, made on first use
  // Gaps, SAR flips and stochastic crosses are common (several a month): their markers start
  // hidden, a click on the key shows them.
  let bars = [], byDate = new Map(), markers = [], byDay = new Map();
  const hidden = new Set([
    "gap_up", "gap_down", "sar_flip_up", "sar_flip_down",
    "stoch_oversold_cross", "stoch_overbought_cross",
  ]);
  let comparing = false, comparison = null;

  const recolor = function () {
    colors = palette();
    const themed = base();
    delete themed.timeScale.tickMarkFormatter;
    chart.applyOptions({ layout: themed.layout, grid: themed.grid });
    volumeChart.applyOptions({ layout: themed.layout, grid: themed.grid });
    candles.applyOptions({
      upColor: colors.up, downColor: colors.down, borderUpColor: colors.up,
      borderDownColor: colors.down, wickUpColor: colors.up, wickDownColor: colors.down,
    });
    sma50.applyOptions({ color: colors.sma50 });
    sma200.applyOptions({ color: colors.sma200 });
    if (lines.ticker) lines.ticker.applyOptions({ color: colors.accent });
    if (lines.peers) lines.peers.applyOptions({ color: colors.sma50 });
    if (lines.benchmark) lines.benchmark.applyOptions({ color: colors.muted });
    if (bars.length) { paintVolume(); drawMarkers(); }
  };
  const paintVolume = function () {
    volume.setData(bars.map(function (b) {
      return { time: b.date, value: b.volume, color: (b.close >= b.open ? colors.up : colors.down) + "88" };
    }));
  };
  recolor();

  const fmt = function (v) { return v === null || v === undefined ? "–" : v.toFixed(2); };
  const describe = function (bar) {
    return bar.date + "  O " + fmt(bar.open) + "  H " + fmt(bar.high) + "  L " + fmt(bar.low) +
      "  C " + fmt(bar.close) + "  SMA 50 " + fmt(bar.sma_50) + "  SMA 200 " + fmt(bar.sma_200) +
      "  Vol " + bar.volume.toLocaleString("en-US");
  };

  // Marker shapes by family, colours by direction; the legend under the chart repeats both.
  const shapeOf = function (kind, direction) {
    if (kind.indexOf("gap_") === 0) return "square";
    if (kind === "volume_surge" || kind.indexOf("large_move") === 0) return "circle";
    if (direction === "up") return "arrowUp";
    if (direction === "down") return "arrowDown";
    return "circle";
  };
  const GLYPHS = { arrowUp: "\u25B2", arrowDown: "\u25BC", square: "\u25A0", circle: "\u25CF" };
  const markerColor = function (direction) {
    return direction === "up" ? colors.up : direction === "down" ? colors.down : colors.accent;
  };

  const query = box.dataset.asOf ? "?as_of=" + encodeURIComponent(box.dataset.asOf) : "";
  const symbol = encodeURIComponent(box.dataset.ticker);
  const getJSON = function (url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status + " from " + url);
      return response.json();
    });
  };


  const drawMarkers = function () {
    const shown = comparing ? [] : markers.filter(function (m) { return !hidden.has(m.kind); });
    candles.setMarkers(shown.map(function (m) {
      return {
        time: m.date, shape: shapeOf(m.kind, m.direction), color: markerColor(m.direction),
        position: m.direction === "down" ? "aboveBar" : "belowBar", id: m.kind + "@" + m.date,
      };
    }));
    box.dataset.markers = String(shown.length);
  };

  const drawKey = function () {
    keyList.textContent = "";
    const counts = new Map();
    markers.forEach(function (m) {
      const entry = counts.get(m.kind) || { n: 0, marker: m };
      entry.n += 1;
      counts.set(m.kind, entry);
    });
    counts.forEach(function (entry, kind) {
      const m = entry.marker;
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.kind = kind;
      button.title = m.meaning + " (click to hide or show)";
      button.setAttribute("aria-pressed", hidden.has(kind) ? "false" : "true");
      const glyph = document.createElement("span");
      glyph.className = "glyph " + m.direction;
      glyph.textContent = GLYPHS[shapeOf(kind, m.direction)];
      button.appendChild(glyph);
      button.appendChild(document.createTextNode(" " + m.label + " (" + entry.n + ")"));
      button.addEventListener("click", function () {
        if (hidden.has(kind)) hidden.delete(kind); else hidden.add(kind);
        button.setAttribute("aria-pressed", hidden.has(kind) ? "false" : "true");
        drawMarkers();
      });
      item.appendChild(button);
      keyList.appendChild(item);
    });
  };

  const showTip = function (param) {
    const date = param.time ? day(param.time) : null;
    const found = date && !comparing ? (byDay.get(date) || []).filter(function (m) {
      return !hidden.has(m.kind);
    }) : [];
    if (!found.length || !param.point) { tooltip.hidden = true; return; }
    tooltip.textContent = "";
    const title = document.createElement("strong");
    title.textContent = date;
    tooltip.appendChild(title);
    found.forEach(function (m) {
      const row = document.createElement("div");
      row.textContent = m.label + ": " + m.meaning;
      tooltip.appendChild(row);
    });
    tooltip.hidden = false;
    const left = Math.min(param.point.x + 14, box.clientWidth - tooltip.offsetWidth - 4);
    tooltip.style.left = Math.max(0, left) + "px";
    tooltip.style.top = (box.offsetTop + Math.max(0, param.point.y - tooltip.offsetHeight - 10)) + "px";
  };

  // -- ranges and scale ----------------------------------------------------------------------
  const MONTHS_BACK = { "1M": 1, "3M": 3, "1Y": 12, "5Y": 60 };
  let range = "1Y";
  const rangeStart = function () {
    if (!bars.length || !(range in MONTHS_BACK)) return bars.length ? bars[0].date : null;
    const last = new Date(bars[bars.length - 1].date + "T00:00:00Z");
    last.setUTCMonth(last.getUTCMonth() - MONTHS_BACK[range]);
    const from = last.toISOString().slice(0, 10);
    return from < bars[0].date ? bars[0].date : from;
  };
  const applyRange = function () {
    if (!bars.length) return;
    const from = rangeStart();
    let first = bars.findIndex(function (b) { return b.date >= from; });
    if (first < 0) first = 0;
    chart.timeScale().setVisibleLogicalRange({ from: first, to: bars.length + 2 });
    document.querySelectorAll("#chart-ranges button").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.range === range ? "true" : "false");
    });
    box.dataset.range = range;
    box.dataset.from = bars[first].date;
    if (comparing) rebase();
  };
  document.querySelectorAll("#chart-ranges button").forEach(function (button) {
    button.addEventListener("click", function () { range = button.dataset.range; applyRange(); });
  });
  const logBox = document.getElementById("chart-log");
  if (logBox) logBox.addEventListener("change", function () {
    chart.priceScale("right").applyOptions({
      mode: logBox.checked ? LC.PriceScaleMode.Logarithmic : LC.PriceScaleMode.Normal,
    });
    box.dataset.scale = logBox.checked ? "log" : "linear";
  });

  // -- comparison ----------------------------------------------------------------------------
  const lineOf = function (key, title, color) {
    if (!lines[key]) {
      lines[key] = chart.addLineSeries({ lineWidth: 2, color: color, title: title,
        priceLineVisible: false, crosshairMarkerVisible: true });
    }
    return lines[key];
  };
  // Each series divided by its close on the range's first session (or its first close after
  // it), times 100; the peer group is the mean of its members so rebased.
  const rebased = function (points, from) {
    const start = points.find(function (p) { return p[0] >= from; });
    if (!start) return [];
    return points.filter(function (p) { return p[0] >= start[0]; })
      .map(function (p) { return [p[0], (100 * p[1]) / start[1]]; });
  };
  const rebase = function () {
    if (!comparison) return;
    const from = rangeStart();
    const series = comparison.series;
    const own = rebased(series[comparison.ticker], from);
    lineOf("ticker", comparison.ticker, colors.accent)
      .setData(own.map(function (p) { return { time: p[0], value: p[1] }; }));
    const sums = new Map();
    comparison.peers.forEach(function (peer) {
      rebased(series[peer], from).forEach(function (p) {
        const s = sums.get(p[0]) || [0, 0];
        sums.set(p[0], [s[0] + p[1], s[1] + 1]);
      });
    });
    const own_dates = new Set(own.map(function (p) { return p[0]; }));
    const group = Array.from(sums.entries())
      .filter(function (e) { return own_dates.has(e[0]) && e[1][1] === comparison.peers.length; })
      .map(function (e) { return { time: e[0], value: e[1][0] / e[1][1] }; });
    const name = "peers" + (comparison.peer_group ? " (" + comparison.peer_group + ")" : "");
    if (comparison.peers.length) lineOf("peers", name, colors.sma50).setData(group);
    if (comparison.benchmark) {
      const spy = rebased(series[comparison.benchmark], from)
        .filter(function (p) { return own_dates.has(p[0]); });
      lineOf("benchmark", comparison.benchmark, colors.muted)
        .setData(spy.map(function (p) { return { time: p[0], value: p[1] }; }));
    }
    box.dataset.compared = [comparison.ticker].concat(comparison.peers.length ? ["peers"] : [],
      comparison.benchmark ? [comparison.benchmark] : []).join(",");
  };
  const setComparing = function (on) {
    comparing = on;
    candles.applyOptions({ visible: !on });
    sma50.applyOptions({ visible: !on });
    sma200.applyOptions({ visible: !on });
    Object.keys(lines).forEach(function (k) { lines[k].applyOptions({ visible: on }); });
    drawMarkers();
    box.dataset.mode = on ? "compare" : "price";
    if (on) rebase();
  };
  const compareBox = document.getElementById("chart-compare");
  if (compareBox) compareBox.addEventListener("change", function () {
    if (!compareBox.checked) return setComparing(false);
    if (comparison) return setComparing(true);
    getJSON("/api/compare/" + symbol + query).then(function (data) {
      comparison = data;
      setComparing(compareBox.checked);
    }).catch(function (error) { legend.textContent = "No comparison: " + error.message; });
  });

  // -- the two panes move together -------------------------------------------------------------
  let syncing = false;
  const follow = function (source, target) {
    source.timeScale().subscribeVisibleLogicalRangeChange(function (r) {
      if (r) visibleBars = r.to - r.from;
      if (syncing || !r) return;
      syncing = true;
      target.timeScale().setVisibleLogicalRange(r);
      syncing = false;
    });
  };
  follow(chart, volumeChart);
  follow(volumeChart, chart);

  Promise.all([
    getJSON("/api/bars/" + symbol + query),
    getJSON("/api/markers/" + symbol + query).catch(function () { return { markers: [] }; }),
  ]).then(function (answers) {
    const data = answers[0];
    bars = data.bars;
    byDate = new Map(bars.map(function (b) { return [b.date, b]; }));
    candles.setData(bars.map(function (b) {
      return { time: b.date, open: b.open, high: b.high, low: b.low, close: b.close };
    }));
    const average = function (key) {
      return bars.filter(function (b) { return b[key] !== null; })
        .map(function (b) { return { time: b.date, value: b[key] }; });
    };
    sma50.setData(average("sma_50"));
    sma200.setData(average("sma_200"));
    paintVolume();
    markers = answers[1].markers.filter(function (m) { return byDate.has(m.date); });
    byDay = new Map();
    markers.forEach(function (m) {
      if (!byDay.has(m.date)) byDay.set(m.date, []);
      byDay.get(m.date).push(m);
    });
    drawMarkers();
    drawKey();
    applyRange();
    const n = bars.length;
    if (n) legend.textContent = describe(bars[n - 1]);
    chart.subscribeCrosshairMove(function (param) {
      const bar = param.time ? byDate.get(day(param.time)) : bars[n - 1];
      if (bar && comparing && param.time) {
        const values = Object.keys(lines).map(function (k) {
          const point = param.seriesData.get(lines[k]);
          return point ? lines[k].options().title + " " + point.value.toFixed(1) : null;
        }).filter(Boolean);
        legend.textContent = bar.date + "  " + values.join("  ") + "  (rebased to 100)";
      } else if (bar) {
        legend.textContent = describe(bar);
      }
      showTip(param);
    });
    box.dataset.state = "ready";
  }).catch(function (error) { fail(error.message); });

  document.addEventListener("stockbrief:theme", recolor);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", recolor);
})();
