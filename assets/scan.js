// The verify page's camera: frames from the phone's back camera, decoded with the vendored
// jsQR; a certificate's QR code (a /v#ZC1:… link or ZC1: text) is checked through the page's
// paste form, exactly as if the person had pasted it. Without a camera (or JavaScript) the
// section stays hidden and the other four ways remain.
(function () {
  "use strict";
  var section = document.getElementById("camera");
  if (!section || !window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  section.hidden = false;
  var button = document.getElementById("camera-start");
  var video = document.getElementById("camera-video");
  var status = document.getElementById("camera-status");
  var form = document.getElementById("paste");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;

  function say(key) { status.textContent = section.getAttribute("data-" + key); }

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
  }

  function found(text) {
    var at = text.indexOf("ZC1:");
    if (at < 0) { say("other"); return false; }
    stop();
    say("found");
    var compact = text.slice(at);
    try { compact = decodeURIComponent(compact); } catch (e) { /* plain ZC1: text */ }
    form.querySelector("textarea").value = compact;
    form.submit();
    return true;
  }

  function tick() {
    if (!stream) return;
    if (video.readyState >= video.HAVE_ENOUGH_DATA && video.videoWidth > 0) {
      // Decode at most 1280 px wide: a certificate's code needs about 4 px a module.
      var scale = Math.min(1, 1280 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (code && code.data && found(code.data)) return;
    }
    setTimeout(tick, 150);
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say("starting");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        video.setAttribute("playsinline", "");
        return video.play();
      })
      .then(function () { say("aim"); tick(); })
      .catch(function () { stop(); say("denied"); button.disabled = false; });
  });
})();
