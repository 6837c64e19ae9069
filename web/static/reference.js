/* Starts Redoc (redoc.standalone.js, loaded before this) on the schema the
   page names: /schema's only script besides Redoc, so the page needs no
   inline script under the Content-Security-Policy. */
(function () {
  "use strict";
  var element = document.getElementById("reference");
  window.Redoc.init(element.getAttribute("data-spec-url"), {}, element);
})();
