// The header's ticker box suggests stored tickers as one types: the list is read once, from
// /api/tickers, when the box is first focused.
"use strict";
(function () {
  const box = document.querySelector("form.lookup input[name=t]");
  const list = document.getElementById("stored-tickers");
  if (!box || !list) return;
  let loaded = false;
  box.addEventListener("focus", function () {
    if (loaded) return;
    loaded = true;
    fetch("/api/tickers", { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { tickers: [] }; })
      .then(function (data) {
        data.tickers.forEach(function (row) {
          const option = document.createElement("option");
          option.value = row.ticker;
          list.appendChild(option);
        });
        list.dataset.count = String(data.tickers.length);
      })
      .catch(function () { loaded = false; });
  });
})();
