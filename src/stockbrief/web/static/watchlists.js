// The market page's watchlist editor: saves and deletes lists through the JSON API (same
// origin only), then shows the saved list. Messages reach the page only through textContent.
"use strict";
(function () {
  const form = document.getElementById("watchlist-editor");
  if (!form) return;
  const status = document.getElementById("watchlist-status");
  const remove = document.getElementById("watchlist-delete");
  const send = function (method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          const detail = typeof data.detail === "string" ? data.detail : "HTTP " + response.status;
          throw new Error(detail);
        }
        return data;
      });
    });
  };
  const show = function (name) {
    const params = new URLSearchParams(window.location.search);
    if (name) params.set("watchlist", name); else params.delete("watchlist");
    window.location.search = params.toString();
  };
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    const tickers = form.elements.tickers.value.split(/[\s,;]+/).filter(Boolean);
    status.textContent = "Saving…";
    send("POST", "/api/watchlists", { name: name, tickers: tickers })
      .then(function (saved) { status.textContent = "Saved " + saved.name + "."; show(saved.name); })
      .catch(function (error) { status.textContent = "Not saved: " + error.message; });
  });
  if (remove) remove.addEventListener("click", function () {
    const name = form.elements.name.value.trim();
    if (!window.confirm("Delete the watchlist " + name + "?")) return;
    send("DELETE", "/api/watchlists/" + encodeURIComponent(name), {})
      .then(function () { status.textContent = "Deleted " + name + "."; show(null); })
      .catch(function (error) { status.textContent = "Not deleted: " + error.message; });
  });
})();
