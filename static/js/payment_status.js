// The processing page: asks the server every 2 seconds how the payment stands and shows the
// matching panel (paid with the receipt link, declined with "try again", or still processing).
// It only reads: the payment is booked by the processor's verified event, never by this page.
(function () {
  const box = document.getElementById("payment-status");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const finished = ["paid", "declined", "review", "canceled"];
  const panelOf = { waiting: "waiting", processing: "processing", paid: "paid", declined: "declined" };

  function show(status) {
    box.dataset.state = status.state;
    const panel = panelOf[status.state] || "other";
    box.querySelectorAll("[data-panel]").forEach(function (el) {
      el.hidden = el.dataset.panel !== panel;
    });
    if (status.state === "paid" && status.receipt_url) {
      box.querySelector("[data-receipt-link]").href = status.receipt_url;
    }
    if (status.state === "declined") box.querySelector("[data-decline-message]").textContent = status.message;
    if (panel === "other") box.querySelector("[data-other-message]").textContent = status.message;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) show(status);
        if (!status || finished.indexOf(status.state) === -1) window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 4000); });
  }

  if (finished.indexOf(box.dataset.state) === -1) window.setTimeout(poll, 2000);
})();
