/* The report page: pin the place (tap, device location, or a photo's GPS), see the ward and
   the unit that will handle it, describe, attach photos (made smaller here), send. */
(function () {
  "use strict";
  var config = GS.config;
  var view = GS.makeMap("map");
  var map = view.map;
  var $ = function (id) { return document.getElementById(id); };
  var state = { lat: null, lon: null, located: null, refused: false, photos: [], seq: 0 };
  var marker = null;

  // ---- The pin -------------------------------------------------------------------------
  function setPin(lat, lon) {
    if (marker) {
      marker.setLatLng([lat, lon]);
    } else {
      marker = L.marker([lat, lon], { draggable: true, keyboard: false, alt: GS.t("Ward") });
      marker.on("dragend", function () {
        var at = marker.getLatLng();
        setPin(at.lat, at.lng);
      });
      marker.addTo(map);
    }
    state.lat = lat;
    state.lon = lon;
    $("form-error").textContent = "";
    locate();
  }

  function wardName(ward) {
    if (config.lang === "vi" || !ward.name_en) { return ward.full_name || ward.name; }
    return ward.name_en + " (" + (ward.full_name || ward.name) + ")";
  }

  function unitName(unit) {
    return config.lang === "en" && unit.name_en ? unit.name_en : unit.name;
  }

  function locate() {
    var seq = ++state.seq;
    state.located = null;
    state.refused = false;
    $("place-empty").hidden = false;
    $("place-empty").textContent = GS.t("Finding the place…");
    $("place-found").hidden = true;
    $("place-refused").hidden = true;
    var url = "/api/v1/locate?lat=" + state.lat.toFixed(7) + "&lon=" + state.lon.toFixed(7);
    GS.fetchJSON(url).then(function (res) {
      if (seq !== state.seq) { return; }  // a newer pin is being located
      $("place-empty").hidden = true;
      if (res.ok) {
        state.located = res.body;
        $("ward-name").textContent = wardName(res.body.ward);
        view.highlightWard(res.body.ward.code);
        $("place-found").hidden = false;
        showUnit();
        loadNearby();
      } else {
        state.refused = true;
        view.highlightWard(null);
        $("place-refused").textContent = GS.t("A report cannot be sent from this place:") + " " + (res.body.detail || res.status);
        $("place-refused").hidden = false;
        hideNearby();
      }
    }, function () {
      if (seq !== state.seq) { return; }
      $("place-empty").textContent = GS.t("Connection error, please try again.");
    });
  }

  function showUnit() {
    var code = $("category").value;
    var route = null;
    if (state.located && code) {
      route = state.located.routing.filter(function (r) { return r.category === code; })[0];
    }
    $("unit-label").hidden = $("unit-name").hidden = !route;
    $("unit-name").textContent = route ? unitName(route.unit) : "";
  }

  map.on("click", function (e) { setPin(e.latlng.lat, e.latlng.lng); });
  map.getContainer().addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target === map.getContainer()) {
      e.preventDefault();
      var c = map.getCenter();
      setPin(c.lat, c.lng);
    }
  });
  $("pin-centre").addEventListener("click", function () {
    var c = map.getCenter();
    setPin(c.lat, c.lng);
  });
  $("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) {
      $("place-empty").textContent = GS.t("Your device's location is not available. Please tap the map.");
      return;
    }
    $("place-empty").textContent = GS.t("Finding the place…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 16));
      setPin(pos.coords.latitude, pos.coords.longitude);
    }, function () {
      $("place-empty").hidden = false;
      $("place-empty").textContent = GS.t("Your device's location is not available. Please tap the map.");
    }, { enableHighAccuracy: true, timeout: 15000 });
  });

  // ---- Nearby open reports of the same kind (a +1 instead of a duplicate) ----------------
  function hideNearby() {
    $("nearby").hidden = true;
    $("nearby-list").textContent = "";
  }

  var nearbySeq = 0;

  function loadNearby() {
    var code = $("category").value;
    if (!state.located || !code) { hideNearby(); return; }
    var mine = ++nearbySeq;
    var url = "/api/v1/reports/nearby?lat=" + state.lat.toFixed(7) + "&lon=" + state.lon.toFixed(7) +
      "&category=" + encodeURIComponent(code);
    GS.fetchJSON(url).then(function (res) {
      if (mine !== nearbySeq) { return; }
      if (!res.ok || !res.body.reports.length) { hideNearby(); return; }
      var list = $("nearby-list");
      list.textContent = "";
      res.body.reports.slice(0, 5).forEach(function (r) { list.appendChild(nearbyItem(r)); });
      $("nearby").hidden = false;
    });
  }

  function nearbyItem(r) {
    var name = config.lang === "en" && r.category_name_en ? r.category_name_en : r.category_name;
    var text = r.description.length > 140 ? r.description.slice(0, 140) + "…" : r.description;
    var button = GS.el("button", {
      type: "button", class: "plus-one", text: GS.t("Me too (+1)"),
      "aria-label": GS.t("Me too (+1)") + ": " + name + " #" + r.id,
    });
    var error = GS.el("p", { class: "error", role: "alert" });
    button.addEventListener("click", function () {
      button.disabled = true;
      // The address typed in this form (if any) hears of each step, like a reporter's.
      var email = $("email") ? $("email").value.trim() : "";
      var options = { method: "POST" };
      if (email) {
        options.headers = { "Content-Type": "application/json" };
        options.body = JSON.stringify({ email: email });
      }
      GS.fetchJSON("/api/v1/reports/" + r.id + "/plus-one", options).then(function (res) {
        if (res.ok) {
          window.location.assign(res.body.tracking_url + "?followed=1");
          return;
        }
        error.textContent = GS.t("Could not send:") + " " + (res.body.detail || res.status);
        button.disabled = false;
      }, function () {
        error.textContent = GS.t("Connection error, please try again.");
        button.disabled = false;
      });
    });
    var facts = [GS.t("{m} m away", { m: Math.round(r.distance_m) })];
    if (r.plus_ones) { facts.push(GS.t("{n} following", { n: r.plus_ones })); }
    return GS.el("li", {}, [
      GS.el("p", {}, [
        GS.el("strong", { text: name + " #" + r.id }), " ",
        GS.el("span", { class: "badge status-" + r.status, text: (config.status_names[r.status] || r.status) }),
      ]),
      GS.el("p", { text: text }),
      GS.el("p", { class: "hint", text: facts.join(" · ") }),
      button, error,
    ]);
  }

  $("category").addEventListener("change", function () {
    $("category-error").hidden = true;
    showUnit();
    loadNearby();
  });

  // ---- Photos ----------------------------------------------------------------------------
  function resize(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var side = Math.max(img.naturalWidth, img.naturalHeight);
        var scale = Math.min(1, config.photo_side / side);
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) {
          if (blob) { resolve(blob); } else { reject(new Error("canvas")); }
        }, "image/jpeg", 0.85);
      };
      img.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("not an image"));
      };
      img.src = url;
    });
  }

  function renderPhotos() {
    var list = $("photo-list");
    list.textContent = "";
    state.photos.forEach(function (photo, i) {
      var remove = GS.el("button", {
        type: "button", class: "remove", text: "×",
        "aria-label": GS.t("Remove photo") + " " + (i + 1),
      });
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(photo.url);
        state.photos.splice(i, 1);
        renderPhotos();
        $("photos").focus();
      });
      list.appendChild(GS.el("li", {}, [
        GS.el("img", { src: photo.url, alt: GS.t("Photo {n}", { n: i + 1 }) }), remove,
      ]));
    });
  }

  $("photos").addEventListener("change", function (e) {
    var files = Array.prototype.slice.call(e.target.files || []);
    e.target.value = "";
    var room = config.max_photos - state.photos.length;
    var note = "";
    if (files.length > room) {
      note = GS.t("At most {n} photos can be sent; the extra ones were left out.", { n: config.max_photos });
      files = files.slice(0, Math.max(0, room));
    }
    $("photos-note").textContent = note;
    files.reduce(function (previous, file) {
      return previous.then(function () {
        return file.arrayBuffer().then(function (buffer) {
          var gps = window.GSExif.readGps(buffer);
          if (gps && state.lat === null) {
            map.setView([gps.lat, gps.lon], Math.max(map.getZoom(), 16));
            setPin(gps.lat, gps.lon);
            $("photos-note").textContent = GS.t("The pin was placed at the photo's GPS position.");
          }
          return resize(file);
        }).then(function (blob) {
          state.photos.push({ blob: blob, url: URL.createObjectURL(blob) });
          renderPhotos();
        }, function () {
          $("photos-note").textContent = GS.t("The photo {name} could not be read.", { name: file.name });
        });
      });
    }, Promise.resolve());
  });

  // ---- Send ------------------------------------------------------------------------------
  function problems() {
    var found = [];
    $("category-error").hidden = $("description-error").hidden = true;
    if (state.lat === null) { found.push([GS.t("Please pin the place on the map."), $("pin-centre")]); }
    else if (state.refused) { found.push([$("place-refused").textContent, $("pin-centre")]); }
    if (!$("category").value) {
      $("category-error").textContent = GS.t("Please choose a kind.");
      $("category-error").hidden = false;
      found.push([GS.t("Please choose a kind."), $("category")]);
    }
    if (!$("description").value.trim()) {
      $("description-error").textContent = GS.t("Please write a line describing it.");
      $("description-error").hidden = false;
      found.push([GS.t("Please write a line describing it."), $("description")]);
    }
    return found;
  }

  $("report-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var found = problems();
    if (found.length) {
      $("form-error").textContent = found.map(function (p) { return p[0]; }).join(" ");
      found[0][1].focus();
      return;
    }
    var form = new FormData();
    form.append("category", $("category").value);
    form.append("description", $("description").value.trim());
    form.append("lat", state.lat.toFixed(7));
    form.append("lon", state.lon.toFixed(7));
    ["name", "phone", "email"].forEach(function (field) {
      var value = $(field).value.trim();
      if (value) { form.append(field, value); }
    });
    state.photos.forEach(function (photo, i) {
      form.append("photos", photo.blob, "photo-" + (i + 1) + ".jpg");
    });
    var send = $("send");
    send.disabled = true;
    send.textContent = GS.t("Sending…");
    $("form-error").textContent = "";
    GS.fetchJSON("/api/v1/reports", { method: "POST", body: form }).then(function (res) {
      if (res.ok) {
        window.location.assign(res.body.tracking_url + "?sent=1");
        return;
      }
      $("form-error").textContent = GS.t("Could not send:") + " " + (res.body.detail || res.status);
      send.disabled = false;
      send.textContent = GS.t("Send the report");
    }, function () {
      $("form-error").textContent = GS.t("Connection error, please try again.");
      send.disabled = false;
      send.textContent = GS.t("Send the report");
    });
  });

  window.GSReport = { map: map, setPin: setPin, state: state };
})();
