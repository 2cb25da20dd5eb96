// The screener's saved screens: saves the screen shown (its expression, the columns the chooser
// shows and the column it is sorted by) and deletes saved ones, through the JSON API (same
// origin only). Names and messages reach the page only through textContent.
"use strict";
(function () {
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
  const open = function (name) {
    const params = new URLSearchParams(window.location.search);
    const asOf = params.get("as_of");
    const next = new URLSearchParams();
    if (name) next.set("saved", name);
    if (asOf) next.set("as_of", asOf);
    window.location.assign("/screen" + (next.toString() ? "?" + next.toString() : ""));
  };
  const form = document.getElementById("screen-save");
  const table = document.getElementById("screen-table");
  if (form) form.addEventListener("submit", function (event) {
    event.preventDefault();
    const status = document.getElementById("screen-save-status");
    let columns = [], sort = null;
    if (table) {
      const hidden = (table.dataset.hidden || "").split(",").filter(Boolean);
      const all = Array.from(table.tHead.rows[0].cells).map(function (th) { return th.dataset.column; })
        .filter(Boolean);
      if (hidden.length) columns = all.filter(function (c) { return hidden.indexOf(c) < 0; });
      const sorted = table.tHead.querySelector("th[aria-sort=descending][data-column]");
      if (sorted) sort = sorted.dataset.key;
    }
    const name = form.elements.name.value.trim();
    status.textContent = "Saving…";
    send("POST", "/api/screens", { name: name, expression: form.dataset.expression, columns: columns, sort: sort })
      .then(function (saved) { status.textContent = "Saved " + saved.name + "."; open(saved.name); })
      .catch(function (error) { status.textContent = "Not saved: " + error.message; });
  });
  for (const button of document.querySelectorAll("button.delete-screen")) {
    button.addEventListener("click", function () {
      const name = button.dataset.name;
      const status = document.getElementById("saved-status");
      if (!window.confirm("Delete the saved screen " + name + "?")) return;
      send("DELETE", "/api/screens/" + encodeURIComponent(name), {})
        .then(function () {
          status.textContent = "Deleted " + name + ".";
          const row = button.closest("tr");
          if (row) row.remove();
          if (new URLSearchParams(window.location.search).get("saved") === name) open(null);
        })
        .catch(function (error) { status.textContent = "Not deleted: " + error.message; });
    });
  }
})();
