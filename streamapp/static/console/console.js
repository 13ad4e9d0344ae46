// The console's one script: an optional live refresh of the first page of alerts. The rows come
// from the server already escaped (the same template as the page), so they are inserted as HTML.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) return;
  var target = document.getElementById(box.getAttribute("data-live-target"));
  var timer = null;
  function refresh() {
    fetch(window.location.href, { headers: { "X-Console-Partial": "rows" }, credentials: "same-origin", redirect: "error" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (html) { target.innerHTML = html; })
      .catch(function () { box.checked = false; stop(); });
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } }
  box.addEventListener("change", function () {
    stop();
    if (box.checked) { refresh(); timer = setInterval(refresh, 10000); }
  });
})();
