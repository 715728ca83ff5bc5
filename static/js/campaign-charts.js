// Campaign charts: reads the JSON the page embeds (json_script) and draws two ECharts charts.
// No inline script (the CSP allows scripts from this site only).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("campaign-chart-data");
    if (!source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var daily = document.getElementById("chart-daily");
    if (daily) {
      echarts.init(daily, null, { renderer: "svg" }).setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: [data.labels.cash, data.labels.count] },
        xAxis: { type: "category", data: data.days },
        yAxis: [{ type: "value" }, { type: "value" }],
        series: [
          { name: data.labels.cash, type: "bar", data: data.cash, itemStyle: { color: "#c8102e" } },
          { name: data.labels.count, type: "line", yAxisIndex: 1, data: data.counts, itemStyle: { color: "#555" } }
        ]
      });
    }
    var kinds = document.getElementById("chart-kinds");
    if (kinds) {
      echarts.init(kinds, null, { renderer: "svg" }).setOption({
        animation: false,
        tooltip: { trigger: "item" },
        series: [{
          name: data.labels.byKind, type: "pie", radius: ["35%", "65%"],
          data: data.recipientKinds.map(function (name, i) { return { name: name, value: data.recipientValues[i] }; })
        }]
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
