/* Where a photo was taken: the GPS position in a JPEG's EXIF block, or null.
   Read in the browser because the resized copy we upload no longer carries EXIF. */
(function () {
  "use strict";

  function readGps(buffer) {
    var view = new DataView(buffer);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) { return null; }
    var offset = 2;
    while (offset + 4 <= view.byteLength) {
      var marker = view.getUint16(offset);
      var length = view.getUint16(offset + 2);
      if (marker === 0xffda || (marker & 0xff00) !== 0xff00) { return null; }  // image data
      if (marker === 0xffe1 && view.getUint32(offset + 4) === 0x45786966) {  // "Exif"
        return fromTiff(view, offset + 10, offset + 2 + length);
      }
      offset += 2 + length;
    }
    return null;
  }

  function fromTiff(view, tiff, end) {
    if (end > view.byteLength) { return null; }
    var little = view.getUint16(tiff) === 0x4949;  // "II"
    function u16(at) { return view.getUint16(at, little); }
    function u32(at) { return view.getUint32(at, little); }
    function entries(ifd) {
      var found = {};
      if (ifd + 2 > end) { return found; }
      var count = u16(ifd);
      for (var i = 0; i < count; i++) {
        var entry = ifd + 2 + i * 12;
        if (entry + 12 > end) { break; }
        found[u16(entry)] = { type: u16(entry + 2), count: u32(entry + 4), at: entry + 8 };
      }
      return found;
    }
    function degrees(entry) {
      if (!entry || entry.type !== 5 || entry.count !== 3) { return null; }
      var at = tiff + u32(entry.at);
      if (at + 24 > end) { return null; }
      var value = 0;
      for (var i = 0; i < 3; i++) {
        var den = u32(at + i * 8 + 4);
        if (den === 0) { return null; }
        value += u32(at + i * 8) / den / Math.pow(60, i);
      }
      return value;
    }
    function ref(entry) {
      return entry ? String.fromCharCode(view.getUint8(entry.at)) : "";
    }
    if (u16(tiff + 2) !== 42) { return null; }
    var ifd0 = entries(tiff + u32(tiff + 4));
    if (!ifd0[0x8825]) { return null; }
    var gps = entries(tiff + u32(ifd0[0x8825].at));
    var lat = degrees(gps[2]);
    var lon = degrees(gps[4]);
    if (lat === null || lon === null || (lat === 0 && lon === 0)) { return null; }
    if (ref(gps[1]) === "S") { lat = -lat; }
    if (ref(gps[3]) === "W") { lon = -lon; }
    return { lat: lat, lon: lon };
  }

  window.GSExif = { readGps: readGps };
})();
