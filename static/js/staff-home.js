// Bar chart of the number of loans per delinquency bucket (the table beside it has balances); data comes from a JSON block the server renders.
(function () {
  const source = document.getElementById("bucket-data");
  const canvas = document.getElementById("bucket-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#2f7d5b", "#e0a526", "#e07b26", "#d1495b", "#8c1c3a"];
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{ label: data.label, data: data.loans, backgroundColor: colours }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
})();
