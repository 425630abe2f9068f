// The bar chart of the complaint reports page: complaints by category. Data comes from a JSON
// block the server renders (labels already in the reader's language).
(function () {
  "use strict";
  const source = document.getElementById("complaint-report-data");
  const canvas = document.getElementById("category-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{ label: data.label, data: data.complaints, backgroundColor: "#2f7d5b" }],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
