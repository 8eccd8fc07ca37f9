// At phone width a table shows each row as a stack of its cells (static/css/app.css), each
// cell labelled with its column's heading: this copies the heading of the column a cell
// sits in (counting colspans) into the cell's data-label, on the page and on every piece
// htmx swaps in. A cell that has its own data-label keeps it.
(function () {
  "use strict";

  function columnHeadings(table) {
    var headings = [];
    var row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!row) return headings;
    Array.prototype.forEach.call(row.cells, function (cell) {
      // A heading abbreviated (a rule ID) is labelled with what it stands for.
      var abbr = cell.querySelector("abbr[title]");
      var text = abbr ? abbr.title : cell.textContent.replace(/[▲▼]/g, "").replace(/\s+/g, " ").trim();
      // A heading only screen readers read (an actions column's) labels no cell on the screen.
      var hidden = cell.querySelector(".visually-hidden");
      if (hidden && hidden.textContent.trim() === text) text = "";
      for (var i = 0; i < cell.colSpan; i++) headings.push(text);
    });
    return headings;
  }

  function label(table) {
    var headings = columnHeadings(table);
    if (!headings.length) return;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var heading = headings[column];
          if (cell.tagName === "TD" && heading && cell.colSpan === 1 && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", heading);
          }
          column += cell.colSpan;
        });
      });
    });
  }

  function labelWithin(root) {
    if (!root.querySelectorAll) return;
    var tables = root.tagName === "TABLE" ? [root] : root.querySelectorAll("table");
    Array.prototype.forEach.call(tables, label);
    // A swapped-in row or body: label it by the table it landed in.
    var table = root.closest && root.closest("table");
    if (table && table !== root) label(table);
  }

  document.addEventListener("DOMContentLoaded", function () { labelWithin(document); });
  document.addEventListener("htmx:load", function (event) { labelWithin(event.target); });
})();
