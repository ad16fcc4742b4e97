/* The public map: the reports in view, clustered by the server, coloured by status,
   filtered by kind and status; a report opens its public summary and timeline. */
(function () {
  "use strict";
  var config = GS.config;
  var view = GS.makeMap("map");
  var map = view.map;
  var layer = L.layerGroup().addTo(map);
  var $ = function (id) { return document.getElementById(id); };
  var seq = 0;
  var timer = null;

  function statusFilter() {
    var value = $("filter-status").value;
    if (value === "open") { return config.open_statuses; }
    if (value === "closed") { return config.closed_statuses; }
    return value ? [value] : [];
  }

  function url() {
    var b = map.getBounds();
    var clamp = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v)); };
    var bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
                clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map(function (v) { return v.toFixed(6); }).join(",");
    var params = ["bbox=" + bbox, "zoom=" + Math.round(map.getZoom())];
    if ($("filter-group").value) { params.push("group=" + encodeURIComponent($("filter-group").value)); }
    statusFilter().forEach(function (s) { params.push("status=" + s); });
    return "/api/v1/reports/clusters?" + params.join("&");
  }

  /* The colour of each status, from the legend's stylesheet (one definition in site.css). */
  var colours = {};
  document.querySelectorAll(".legend .dot").forEach(function (dot) {
    colours[dot.dataset.status] = getComputedStyle(dot).getPropertyValue("--status").trim();
  });

  /* A cluster is a ring split by status, in the legend's order. */
  function ring(statuses, count) {
    var at = 0;
    var stops = config.statuses.filter(function (s) { return statuses[s]; }).map(function (s) {
      var from = at;
      at += (statuses[s] / count) * 100;
      return colours[s] + " " + from.toFixed(1) + "% " + at.toFixed(1) + "%";
    });
    return "conic-gradient(" + stops.join(", ") + ")";
  }

  function statusName(status) { return config.status_names[status] || status; }

  /* Markers are buttons a keyboard reaches (Tab, then Enter); give them a spoken name. */
  function named(marker, label) {
    marker.on("add", function () { marker.getElement().setAttribute("aria-label", label); });
    return marker;
  }

  function clusterMarker(cluster) {
    var size = Math.round(30 + Math.min(26, Math.log(cluster.count) * 4));
    var label = GS.t("{n} reports — zoom in to see them", { n: cluster.count.toLocaleString(config.lang) });
    var icon = L.divIcon({
      className: "cluster",
      html: "<span>" + cluster.count.toLocaleString(config.lang) + "</span>",
      iconSize: [size, size],
    });
    var marker = named(L.marker([cluster.lat, cluster.lon], { icon: icon, title: label }), label);
    marker.on("add", function () { marker.getElement().style.background = ring(cluster.statuses, cluster.count); });
    marker.on("click", function () {
      var b = cluster.bbox;
      var bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
      if (map.getZoom() >= map.getMaxZoom() || bounds.getNorthEast().equals(bounds.getSouthWest())) {
        map.setView([cluster.lat, cluster.lon], map.getMaxZoom());
      } else {
        map.fitBounds(bounds.pad(0.2), { maxZoom: map.getMaxZoom() });
      }
    });
    return marker;
  }

  function reportMarker(report) {
    var label = "#" + report.id + " " + statusName(report.status);
    var icon = L.divIcon({ className: "report-dot status-" + report.status, iconSize: [18, 18] });
    var marker = named(L.marker([report.lat, report.lon], { icon: icon, title: label }), label);
    marker.bindPopup(function () { return loading(report); }, { maxWidth: 280 });
    marker.on("popupopen", function (e) { fillPopup(e.popup, report.id); });
    return marker;
  }

  function loading() { return GS.el("p", { text: "…" }); }

  function fillPopup(popup, id) {
    GS.fetchJSON("/api/v1/reports/" + id).then(function (res) {
      if (!res.ok) { popup.setContent(GS.el("p", { text: res.body.detail || String(res.status) })); return; }
      var p = res.body.properties;
      var category = config.lang === "en" && p.category_name_en ? p.category_name_en : p.category_name;
      var body = GS.el("div", { class: "report-popup" }, [
        GS.el("p", {}, [GS.el("strong", { text: category })]),
        GS.el("p", {}, [GS.el("span", { class: "badge status-" + p.status, text: statusName(p.status) })]),
        GS.el("p", { text: p.description }),
        GS.el("p", { class: "hint", text: (p.ward_name || "") + " · " + p.unit_name }),
        GS.el("p", { class: "hint", text: new Date(p.created_at).toLocaleString(config.lang, {
          timeZone: config.timezone, dateStyle: "short", timeStyle: "short",
        }) }),
      ]);
      if (p.photos && p.photos.length) {
        body.appendChild(GS.el("img", { src: p.photos[0], alt: category, class: "popup-photo" }));
      }
      if (config.report_page) {
        body.appendChild(GS.el("p", {}, [GS.el("a", {
          href: config.report_page.replace("{id}", id), text: GS.t("Open the timeline"),
        })]));
      }
      popup.setContent(body);
    });
  }

  function refresh() {
    var mine = ++seq;
    GS.fetchJSON(url()).then(function (res) {
      if (mine !== seq || !res.ok) { return; }
      layer.clearLayers();
      res.body.clusters.forEach(function (c) { layer.addLayer(clusterMarker(c)); });
      res.body.reports.forEach(function (r) { layer.addLayer(reportMarker(r)); });
      $("map-count").textContent = GS.t("{n} reports in view", { n: res.body.total.toLocaleString(config.lang) });
    });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }

  map.on("moveend", later);
  $("filter-group").addEventListener("change", refresh);
  $("filter-status").addEventListener("change", refresh);
  $("filters").addEventListener("submit", function (e) { e.preventDefault(); refresh(); });
  refresh();
  window.GSMap = { map: map, refresh: refresh };
})();
