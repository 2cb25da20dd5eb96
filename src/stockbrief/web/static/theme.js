// Light or dark: the system's choice (prefers-color-scheme) unless the header's toggle set one,
// kept in localStorage. Loaded in <head> without defer so that the page never flashes.
"use strict";
(function () {
  const root = document.documentElement;
  const stored = function () {
    try { return localStorage.getItem("stockbrief-theme"); } catch (e) { return null; }
  };
  const system = function () {
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  };
  const current = function () { return root.dataset.theme || system(); };
  const chosen = stored();
  if (chosen === "dark" || chosen === "light") root.dataset.theme = chosen;
  document.addEventListener("DOMContentLoaded", function () {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    const label = function () {
      const next = current() === "dark" ? "light" : "dark";
      button.textContent = next === "dark" ? "Dark" : "Light";
      button.setAttribute("aria-label", "Switch to " + next + " mode");
    };
    label();
    button.addEventListener("click", function () {
      root.dataset.theme = current() === "dark" ? "light" : "dark";
      try { localStorage.setItem("stockbrief-theme", root.dataset.theme); } catch (e) { /* private mode */ }
      label();
      document.dispatchEvent(new CustomEvent("stockbrief:theme"));
    });
  });
})();
