/* GS.t("Send the report") and GS.t("Photos (up to {n})", {n: 3}): a text in the page's
   language. The msgid is the English text; the page gives its scripts the translations of
   exactly the msgids they use (#gs-texts, found by Babel's extractor as for the catalogs,
   see docs/i18n.md). One that is missing shows in English rather than breaking the page.
   Placeholders are {name}, filled after translation, as in Python. */
(function () {
  "use strict";

  var node = document.getElementById("gs-texts");
  var texts = node ? JSON.parse(node.textContent) : {};

  function t(msgid, values) {
    var text = Object.prototype.hasOwnProperty.call(texts, msgid) ? texts[msgid] : msgid;
    if (!values) { return text; }
    return text.replace(/\{\{|\}\}|\{(\w+)\}/g, function (match, name) {
      if (!name) { return match.charAt(0); }
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  window.GS = Object.assign(window.GS || {}, { t: t });
})();
