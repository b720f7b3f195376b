/* propfee report charts: every element with data-chart="<id>" is drawn with Apache ECharts from
   the JSON that Django's json_script wrote into <script id="<id>">:
   {kind: "bar"|"line", format: "yuan"|"percent", categories: [...], series: [{name, data}]}.
   Values arrive as exact decimal strings ("1234.50", "32.26") or null (no value). */
(function () {
  "use strict";
  if (!window.echarts) {
    return;
  }

  function yuan(value) {
    return "¥" + Number(value).toLocaleString("zh-CN", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  }

  function optionOf(spec) {
    const percent = spec.format === "percent";
    const shown = function (value) {
      if (value === null || value === undefined || value === "-") {
        return "—";
      }
      return percent ? Number(value).toFixed(2) + "%" : yuan(value);
    };
    return {
      animation: false,
      color: ["#0d6efd", "#198754", "#fd7e14", "#6f42c1"],
      // Drawn on the canvas: an HTML tooltip carries style attributes, which the site's
      // Content-Security-Policy refuses.
      tooltip: { trigger: "axis", valueFormatter: shown, renderMode: "richText" },
      legend: spec.series.length > 1 ? { top: 0 } : { show: false },
      grid: { left: 8, right: 16, top: spec.series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.categories, axisLabel: { hideOverlap: true } },
      yAxis: {
        type: "value",
        min: 0,
        max: percent ? 100 : null,
        axisLabel: { formatter: percent ? "{value}%" : "{value}" },
      },
      series: spec.series.map(function (series) {
        return {
          name: series.name,
          type: spec.kind,
          data: series.data.map(function (value) {
            return value === null ? null : Number(value);
          }),
          barMaxWidth: 48,
          connectNulls: false,
          label: {
            show: spec.categories.length <= 12,
            position: "top",
            formatter: function (params) {
              return shown(params.value);
            },
          },
        };
      }),
    };
  }

  function draw(element) {
    const source = document.getElementById(element.dataset.chart);
    if (!source) {
      return;
    }
    const previous = window.echarts.getInstanceByDom(element);
    if (previous) {
      previous.dispose();
    }
    const chart = window.echarts.init(element, null, { renderer: "canvas", locale: "ZH" });
    chart.setOption(optionOf(JSON.parse(source.textContent)));
    element.dataset.chartDrawn = "true";
  }

  function drawAll(root) {
    const scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-chart]")) {
      draw(scope);
    }
    scope.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (window.htmx) {
    window.htmx.onLoad(drawAll); // the page, and any fragment htmx swaps in later
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      drawAll(document);
    });
  }
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      const chart = window.echarts.getInstanceByDom(element);
      if (chart) {
        chart.resize();
      }
    });
  });
})();
