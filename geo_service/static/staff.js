/* Staff pages: the small map of the queue (or of one report), and the transition form,
   sent to the staff API with the session's CSRF value. Everything else is server-rendered. */
(function () {
  "use strict";

  var configNode = document.getElementById("staff-config");
  var config = configNode ? JSON.parse(configNode.textContent) : { reports: [], templates: [] };

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  /* The map: one marker per report, red when overdue; a click opens the report. */
  var mapNode = document.getElementById("queue-map");
  if (mapNode && window.L) {
    var map = L.map(mapNode, { center: config.center, zoom: config.zoom, scrollWheelZoom: false });
    if (config.tiles && config.tiles.url) {
      L.tileLayer(config.tiles.url, {
        attribution: config.tiles.attribution, maxZoom: config.tiles.max_zoom,
      }).addTo(map);
    }
    map.attributionControl.setPrefix(false);
    var points = [];
    (config.reports || []).forEach(function (r) {
      var colour = r.overdue ? "#b00020" : "#5b3e96";
      var marker = L.circleMarker([r.lat, r.lon], {
        radius: 7, color: colour, weight: 2, fillColor: colour, fillOpacity: 0.6,
      }).addTo(map);
      var link = document.createElement("a");
      link.href = "/staff/reports/" + r.id;
      link.textContent = "#" + r.id + " · " + r.category;
      marker.bindPopup(link);
      points.push([r.lat, r.lon]);
    });
    if (points.length === 1) { map.setView(points[0], 16); }
    else if (points.length > 1) { map.fitBounds(points, { padding: [20, 20], maxZoom: 16 }); }
  }

  /* The transition form: show the fields the chosen status needs, offer its templates. */
  var form = document.getElementById("transition");
  if (!form) { return; }
  var to = form.elements.to;
  var reason = form.elements.reason;
  var template = form.elements.template;
  var comment = form.elements.public_comment;
  var errorBox = document.getElementById("transition-error");
  var filledFromTemplate = "";

  function refresh() {
    Array.prototype.forEach.call(reason.options, function (option) {
      option.hidden = option.disabled = option.getAttribute("data-for") !== to.value;
    });
    if (reason.selectedOptions.length === 0 || reason.selectedOptions[0].disabled) {
      var first = Array.prototype.filter.call(reason.options, function (o) { return !o.disabled; })[0];
      if (first) { first.selected = true; }
    }
    var shown = [to.value];
    if (to.value === "rejected" && reason.value === "duplicate") { shown.push("duplicate"); }
    Array.prototype.forEach.call(form.querySelectorAll("[data-when]"), function (section) {
      var visible = section.getAttribute("data-when").split(" ").some(function (w) {
        return shown.indexOf(w) >= 0;
      });
      section.hidden = !visible;
      Array.prototype.forEach.call(section.querySelectorAll("input, select"), function (input) {
        input.disabled = !visible;  // a hidden field is not sent
      });
    });
    Array.prototype.forEach.call(template.options, function (option) {
      var status = option.getAttribute("data-status");
      option.hidden = option.disabled = !!status && status !== to.value;
    });
    if (template.selectedOptions.length && template.selectedOptions[0].disabled) { template.value = ""; }
  }

  template.addEventListener("change", function () {
    var chosen = (config.templates || []).filter(function (x) { return String(x.id) === template.value; })[0];
    if (comment.value === "" || comment.value === filledFromTemplate) {
      comment.value = chosen ? chosen.body : "";
      filledFromTemplate = comment.value;
    }
  });
  to.addEventListener("change", refresh);
  reason.addEventListener("change", refresh);
  refresh();

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = new FormData();
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") { return; }
      if (typeof value === "string" ? value.trim() === "" : value.size === 0) { return; }
      body.append(key, value);
    });
    var button = form.querySelector("button[type=submit]");
    var label = button.textContent;
    button.disabled = true;
    button.textContent = button.getAttribute("data-saving");
    errorBox.hidden = true;
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        "X-CSRF-Token": cookie("gs_csrf") || form.elements.csrf_token.value,
        "Accept": "application/json",
        "Accept-Language": config.lang,  // errors come back in the page's language
      },
    }).then(function (response) {
      if (response.ok) { window.location.reload(); return; }
      return response.json().catch(function () { return {}; }).then(function (err) {
        var detail = err.detail || response.statusText;
        var stale = response.status === 409 && err.errors && err.errors[0] && err.errors[0].field === "version";
        errorBox.textContent = stale
          ? GS.t("Someone else changed this report meanwhile. Reload the page and decide again.") + " (" + detail + ")"
          : GS.t("Not saved:") + " " + detail;
        errorBox.hidden = false;
        button.disabled = false;
        button.textContent = label;
      });
    }).catch(function () {
      errorBox.textContent = GS.t("Connection error, please try again.");
      errorBox.hidden = false;
      button.disabled = false;
      button.textContent = label;
    });
  });
})();
