// The ticker page's chart: candles, SMA 50/200 and volume from /api/bars, drawn with the
// vendored lightweight-charts. Text reaches the page only through textContent.
(function () {
  "use strict";
  const box = document.getElementById("price-chart");
  const legend = document.getElementById("chart-legend");
  if (!box) return;
  const fail = function (why) {
    box.dataset.state = "error";
    legend.textContent = "The chart could not be drawn: " + why;
  };
  if (!window.LightweightCharts) return fail("lightweight-charts did not load");

  const up = "#1a9e78", down = "#d64545";
  const chart = LightweightCharts.createChart(box, {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#344054", fontSize: 12 },
    grid: { vertLines: { color: "#f0f2f5" }, horzLines: { color: "#f0f2f5" } },
    rightPriceScale: { borderColor: "#e4e7ec", scaleMargins: { top: 0.06, bottom: 0.24 } },
    timeScale: { borderColor: "#e4e7ec", rightOffset: 3 },
    crosshair: { mode: LightweightCharts.CrosshairMode.Normal },
  });
  const candles = chart.addCandlestickSeries({
    upColor: up, downColor: down, borderUpColor: up, borderDownColor: down,
    wickUpColor: up, wickDownColor: down,
  });
  const line = { lineWidth: 2, priceLineVisible: false, lastValueVisible: false,
    crosshairMarkerVisible: false };
  const sma50 = chart.addLineSeries(Object.assign({ color: "#e08a00", title: "SMA 50" }, line));
  const sma200 = chart.addLineSeries(Object.assign({ color: "#6f42c1", title: "SMA 200" }, line));
  const volume = chart.addHistogramSeries({
    priceScaleId: "volume", priceFormat: { type: "volume" },
    priceLineVisible: false, lastValueVisible: false,
  });
  chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });

  const fmt = function (v) { return v === null || v === undefined ? "–" : v.toFixed(2); };
  const describe = function (bar) {
    return bar.date + "  O " + fmt(bar.open) + "  H " + fmt(bar.high) + "  L " + fmt(bar.low) +
      "  C " + fmt(bar.close) + "  SMA 50 " + fmt(bar.sma_50) + "  SMA 200 " + fmt(bar.sma_200) +
      "  Vol " + bar.volume.toLocaleString("en-US");
  };

  const pad = function (v) { return String(v).padStart(2, "0"); };
  const day = function (time) {  // The library may hand back a string, a BusinessDay or seconds.
    if (typeof time === "string") return time;
    if (typeof time === "number") return new Date(time * 1000).toISOString().slice(0, 10);
    return time.year + "-" + pad(time.month) + "-" + pad(time.day);
  };

  let url = "/api/bars/" + encodeURIComponent(box.dataset.ticker);
  if (box.dataset.asOf) url += "?as_of=" + encodeURIComponent(box.dataset.asOf);
  fetch(url, { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      const bars = data.bars;
      const byDate = new Map(bars.map(function (b) { return [b.date, b]; }));
      candles.setData(bars.map(function (b) {
        return { time: b.date, open: b.open, high: b.high, low: b.low, close: b.close };
      }));
      const average = function (key) {
        return bars.filter(function (b) { return b[key] !== null; })
          .map(function (b) { return { time: b.date, value: b[key] }; });
      };
      sma50.setData(average("sma_50"));
      sma200.setData(average("sma_200"));
      volume.setData(bars.map(function (b) {
        return { time: b.date, value: b.volume, color: b.close >= b.open ? up + "66" : down + "66" };
      }));
      const n = bars.length;
      chart.timeScale().setVisibleLogicalRange({ from: Math.max(0, n - 260), to: n + 2 });
      if (n) legend.textContent = describe(bars[n - 1]);
      chart.subscribeCrosshairMove(function (param) {
        const bar = param.time ? byDate.get(day(param.time)) : bars[n - 1];
        if (bar) legend.textContent = describe(bar);
      });
      box.dataset.state = "ready";
    })
    .catch(function (error) { fail(error.message); });
})();
