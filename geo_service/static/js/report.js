/* The report page: drop a pin on the map, see the ward and unit, describe, send. */
(function () {
  "use strict";
  var view = GS.makeMap("map");
  window.GSReport = { map: view.map };
})();
