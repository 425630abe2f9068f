// Chat launcher: the iframe gets its src on first open, so no chat code loads until wanted.
(function () {
  var launcher = document.getElementById("support-widget-launcher");
  var panel = document.getElementById("support-widget-panel");
  var frame = document.getElementById("support-widget-frame");
  if (!launcher || !panel || !frame) return;
  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && !frame.getAttribute("src")) frame.setAttribute("src", frame.dataset.src);
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  document.getElementById("support-widget-close").addEventListener("click", function () { setOpen(false); });
})();
