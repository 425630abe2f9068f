// Charts of the collections portfolio page: open cases by bucket, recoveries over time, open and
// cured cases by collector. Data comes from a JSON block the server renders; amounts arrive in
// minor units with their currency's exponent and are shown in major units.
(function () {
  "use strict";
  const source = document.getElementById("portfolio-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#2f7d5b", "#e0a526", "#e07b26", "#d1495b", "#8c1c3a", "#5b6c8f"];

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }

  draw("bucket-chart", {
    type: "bar",
    data: {
      labels: data.buckets.labels,
      datasets: [{ label: data.buckets.label, data: data.buckets.loans, backgroundColor: palette }],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });

  draw("recovered-chart", {
    type: "line",
    data: {
      labels: data.recovered.labels,
      datasets: data.recovered.datasets.map(function (set, index) {
        const scale = Math.pow(10, set.exponent);
        return {
          label: set.label,
          data: set.minor.map(function (minor) { return minor / scale; }),
          borderColor: palette[index % palette.length],
          backgroundColor: palette[index % palette.length],
          tension: 0.2,
        };
      }),
    },
    options: { scales: { y: { beginAtZero: true } } },
  });

  draw("collector-chart", {
    type: "bar",
    data: {
      labels: data.collectors.labels,
      datasets: [
        { label: data.collectors.open_label, data: data.collectors.open, backgroundColor: palette[1] },
        { label: data.collectors.cured_label, data: data.collectors.cured, backgroundColor: palette[0] },
      ],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
