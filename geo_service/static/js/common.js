/* Shared by the public pages (after texts.js, which gives GS.t): the page's configuration, a
   fetch that asks for answers in the page's language, and a Leaflet map with the city's ward
   boundaries drawn from our own API (usable even when no tiles load). */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("page-config").textContent);

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (name === "class") { node.className = attrs[name]; }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  /* The server answers (errors included) in the page's language, whatever the browser's. */
  function fetchJSON(url, options) {
    options = Object.assign({}, options);
    options.headers = Object.assign({ "Accept-Language": config.lang }, options.headers);
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  var WARD_STYLE = {
    color: "#5b3e96", weight: 1, opacity: 0.7, fillColor: "#5b3e96", fillOpacity: 0.03,
  };
  var WARD_HIGHLIGHT = { weight: 3, opacity: 1, fillOpacity: 0.12 };

  /* The boundary data's attribution is in the page footer; the map names only the tiles. */
  function makeMap(container, options) {
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var map = L.map(container, Object.assign({
      center: config.center, zoom: config.zoom, zoomControl: true, keyboard: true,
      fadeAnimation: !still, zoomAnimation: !still, markerZoomAnimation: !still,
    }, options || {}));
    var notice = document.getElementById("tiles-notice");
    if (config.tiles.url) {
      var failures = 0;
      var tiles = L.tileLayer(config.tiles.url, {
        attribution: config.tiles.attribution, maxZoom: config.tiles.max_zoom,
      });
      tiles.on("tileerror", function () {
        failures += 1;
        if (failures >= 4 && notice) { notice.hidden = false; }
      });
      tiles.on("tileload", function () { if (notice) { notice.hidden = true; } failures = 0; });
      tiles.addTo(map);
    } else if (notice) {
      notice.hidden = false;
    }
    map.attributionControl.setPrefix(false);
    var wards = L.geoJSON(null, {
      interactive: false,
      style: WARD_STYLE,
    }).addTo(map);
    /* Outline one ward (the pin's), or none; remembered for when the wards arrive. */
    var highlighted = null;
    function highlightWard(code) {
      highlighted = code;
      wards.eachLayer(function (layer) {
        layer.setStyle(layer.feature.id === code ? WARD_HIGHLIGHT : WARD_STYLE);
        if (layer.feature.id === code) { layer.bringToFront(); }
      });
    }
    var ready = fetchJSON("/api/v1/boundaries/wards?simplify=15").then(function (res) {
      if (res.ok) {
        wards.addData(res.body);
        if (highlighted) { highlightWard(highlighted); }
      }
      return wards;
    });
    return { map: map, wards: wards, wardsReady: ready, highlightWard: highlightWard };
  }

  window.GS = Object.assign(window.GS || {}, {
    config: config, el: el, escapeHtml: escapeHtml, fetchJSON: fetchJSON, makeMap: makeMap,
  });
})();
