// The column chooser of a table: a details.columns[data-table] lists the table's columns as
// checkboxes; unticked ones are hidden, cell by cell (data-column), and remembered per table
// kind in localStorage. A table whose data-columns names its columns (a saved screen) starts
// with those shown instead.
"use strict";
(function () {
  const read = function (key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  };
  const write = function (key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  };
  for (const chooser of document.querySelectorAll("details.columns[data-table]")) {
    const table = document.getElementById(chooser.dataset.table);
    if (!table) continue;
    const key = "stockbrief-columns-" + (table.dataset.columnsKey || table.id);
    const boxes = Array.from(chooser.querySelectorAll("input[type=checkbox]"));
    const apply = function () {
      const hidden = new Set(boxes.filter(function (b) { return !b.checked; }).map(function (b) { return b.value; }));
      for (const cell of table.querySelectorAll("[data-column]")) {
        cell.hidden = hidden.has(cell.dataset.column);
      }
      table.dataset.hidden = Array.from(hidden).join(",");
      table.dispatchEvent(new CustomEvent("stockbrief:columns"));
    };
    let hidden;
    if (table.dataset.columns) {
      const shown = new Set(table.dataset.columns.split(","));
      hidden = boxes.map(function (b) { return b.value; }).filter(function (v) { return !shown.has(v); });
    } else {
      hidden = read(key) || [];
    }
    for (const box of boxes) {
      box.checked = hidden.indexOf(box.value) < 0;
      box.addEventListener("change", function () {
        apply();
        const remembered = new Set(read(key) || []);
        if (box.checked) remembered.delete(box.value); else remembered.add(box.value);
        write(key, Array.from(remembered));
      });
    }
    apply();
  }
})();
