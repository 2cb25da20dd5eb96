// Sorts a table.sortable by the column whose heading is clicked: numbers by their raw
// data-value (empty cells last), text alphabetically; a second click reverses the order.
"use strict";
(function () {
  function sortBy(table, th) {
    const index = Array.prototype.indexOf.call(th.parentNode.children, th);
    const numeric = th.dataset.sort === "number";
    const descending = th.getAttribute("aria-sort") === "ascending" ||
      (numeric && !th.hasAttribute("aria-sort"));
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = a.cells[index].dataset.value, y = b.cells[index].dataset.value;
      if (numeric) {
        if (x === "" || y === "") return (x === "") - (y === "");
        return descending ? Number(y) - Number(x) : Number(x) - Number(y);
      }
      return descending ? y.localeCompare(x) : x.localeCompare(y);
    });
    for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    for (const row of rows) body.appendChild(row);
  }
  for (const table of document.querySelectorAll("table.sortable")) {
    for (const th of table.tHead.rows[0].cells) {
      if (!th.dataset.sort) continue;
      th.querySelector("button").addEventListener("click", function () { sortBy(table, th); });
    }
  }
})();
