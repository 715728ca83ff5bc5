// Campaign charts: reads the JSON the page embeds (json_script) and draws two ECharts charts.
// No inline script (the CSP allows scripts from this site only).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("campaign-chart-data");
    if (!source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    // axis labels inside the chart's box (they were cut off on a phone), large sums in 万 (k in English)
    var divisor = data.labels.bigDivisor || 10000;
    var wan = function (value) { return value >= divisor ? (value / divisor) + (data.labels.bigUnit || "万") : value; };
    var daily = document.getElementById("chart-daily");
    if (daily) {
      var dailyChart = echarts.init(daily, null, { renderer: "svg" });
      charts.push(dailyChart);
      dailyChart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: [data.labels.cash, data.labels.count] },
        grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
        xAxis: { type: "category", data: data.days, axisLabel: { hideOverlap: true } },
        yAxis: [{ type: "value", axisLabel: { formatter: wan } }, { type: "value", minInterval: 1 }],
        series: [
          { name: data.labels.cash, type: "bar", data: data.cash, itemStyle: { color: "#c8102e" } },
          { name: data.labels.count, type: "line", yAxisIndex: 1, data: data.counts, itemStyle: { color: "#555" } }
        ]
      });
    }
    var kinds = document.getElementById("chart-kinds");
    if (kinds) {
      var kindsChart = echarts.init(kinds, null, { renderer: "svg" });
      charts.push(kindsChart);
      kindsChart.setOption({
        animation: false,
        tooltip: { trigger: "item" },
        series: [{
          name: data.labels.byKind, type: "pie", radius: ["35%", "65%"],
          data: data.recipientKinds.map(function (name, i) { return { name: name, value: data.recipientValues[i] }; })
        }]
      });
    }
    // a phone turned sideways, a window resized: the charts follow their boxes
    window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
