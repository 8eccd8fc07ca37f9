// The header's search box (issue 16). "/" jumps to it from anywhere on the page (unless
// one is typing in a field); the arrow keys move between the box and what it found;
// Escape closes the list and comes back to the box; the list closes when the focus leaves
// the box and opens again on coming back or typing. What is found comes from the server.
(function () {
  "use strict";
  const form = document.getElementById("finder");
  const input = document.getElementById("finder-q");
  if (!form || !input) {
    return;
  }

  function isTyping(target) {
    return (
      target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
    );
  }

  function links() {
    return Array.from(form.querySelectorAll("#finder-results a"));
  }

  function setOpen(open) {
    form.classList.toggle("finder-closed", !open);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.defaultPrevented || isTyping(event.target)) {
      return;
    }
    event.preventDefault();
    input.focus();
    input.select();
  });

  form.addEventListener("keydown", function (event) {
    const found = links();
    const at = found.indexOf(document.activeElement);
    if (event.key === "Escape") {
      if (found.length && !form.classList.contains("finder-closed")) {
        // The first Escape closes the list; the next one clears the box (the browser's own).
        event.preventDefault();
        setOpen(false);
        input.focus();
      }
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!found.length) {
        return;
      }
      event.preventDefault();
      setOpen(true);
      const next = event.key === "ArrowDown" ? Math.min(at + 1, found.length - 1) : at - 1;
      (next < 0 ? input : found[next]).focus();
    }
  });

  form.addEventListener("focusout", function (event) {
    if (!form.contains(event.relatedTarget)) {
      setOpen(false);
    }
  });
  input.addEventListener("focus", function () {
    setOpen(true);
  });
  input.addEventListener("input", function () {
    setOpen(true);
  });
})();
