// Doughnut of the last days' messages by status; data comes from a JSON block the server renders.
(function () {
  "use strict";
  const source = document.getElementById("status-data");
  const canvas = document.getElementById("status-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "doughnut",
    data: {
      labels: data.labels,
      datasets: [{ data: data.counts, backgroundColor: data.colours }],
    },
    options: { plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } },
  });
})();
