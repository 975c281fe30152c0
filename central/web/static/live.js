/* hallwatch live view (实时视频): the browser's own WebRTC, written here (no third-party code).
 * Each tile offers to receive one video track; central authorises the view and relays the offer to
 * the hall's edge agent, whose answer comes back in the same request. Non-trickle: the offer is
 * posted once its ICE candidates are gathered. A click focuses a tile (the full-size profile); the
 * views end when the page goes. An offline camera shows 摄像机离线, never a frozen picture.
 * In a patrol (data-viewing-url), every view's counts from the browser's own statistics (frames
 * decoded, packets received) are posted every few seconds and when a view ends: central sets them
 * beside the edge's count of what it sent (proof of viewing).
 * ICE servers: the page's (data-ice). Where they carry TURN credentials minted for this user, which
 * coturn takes only until their expiry, data-ice-refresh says after how many seconds to fetch fresh
 * ones (data-ice-url) before the next view: measured on this page's own clock, never compared with
 * the server's. */
(function () {
  "use strict";
  var grid = document.getElementById("live-grid");
  if (!grid) { return; }
  var hall = grid.getAttribute("data-hall");
  var iceUrl = grid.getAttribute("data-ice-url");
  var ice = held(JSON.parse(grid.getAttribute("data-ice") || "[]"), grid.getAttribute("data-ice-refresh"));
  var csrf = grid.getAttribute("data-csrf");
  var offerUrl = grid.getAttribute("data-offer-url") || "/api/v1/live/offer";
  var viewingUrl = grid.getAttribute("data-viewing-url");
  var views = new Map(); /* tile -> {pc, viewer, profile, decoded, received} */
  var ended = []; /* views ended since the last report */

  function counts(view) {
    return {viewer: view.viewer, frames_decoded: view.decoded, packets_received: view.received};
  }

  function report(keepalive) {
    if (!viewingUrl) { return Promise.resolve(); }
    var items = ended.splice(0);
    views.forEach(function (view) { if (view.viewer) { items.push(counts(view)); } });
    if (!items.length) { return Promise.resolve(); }
    return fetch(viewingUrl, {
      method: "POST", credentials: "same-origin", keepalive: keepalive,
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({views: items})
    }).catch(function () { /* the next report carries the counts again */ });
  }

  function held(servers, refreshAfter) {
    var until = refreshAfter ? performance.now() + 1000 * Number(refreshAfter) : Infinity;
    return {servers: servers, until: until};
  }

  async function iceServers() {
    if (!iceUrl || performance.now() < ice.until) { return ice.servers; }
    try {
      var response = await fetch(iceUrl, {credentials: "same-origin", cache: "no-store"});
      if (response.ok) {
        var body = await response.json();
        ice = held(body.ice_servers, body.refresh_after_seconds);
      }
    } catch (error) { /* the old ones: the view then says that it cannot connect */ }
    return ice.servers;
  }

  function say(tile, text) { tile.querySelector(".live-state").textContent = text; }

  function gathered(pc) {
    if (pc.iceGatheringState === "complete") { return Promise.resolve(); }
    return new Promise(function (resolve) {
      var done = function () { if (pc.iceGatheringState === "complete") { resolve(); } };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000); /* what is gathered by then is enough on a hall network */
    });
  }

  function stop(tile) {
    var view = views.get(tile);
    if (!view) { return; }
    views.delete(tile);
    if (view.pc) { view.pc.close(); }
    if (view.viewer) { ended.push(counts(view)); }
    if (view.viewer) {
      fetch("/api/v1/live/viewers/" + encodeURIComponent(view.viewer), {
        method: "DELETE", headers: {"X-CSRF-Token": csrf}, credentials: "same-origin", keepalive: true
      });
    }
  }

  async function start(tile, profile) {
    stop(tile);
    var camera = tile.getAttribute("data-camera");
    var view = {pc: null, viewer: null, profile: profile, decoded: 0, received: 0};
    views.set(tile, view);
    var servers = await iceServers();
    if (views.get(tile) !== view) { return; } /* replaced meanwhile */
    var pc = new RTCPeerConnection({iceServers: servers});
    view.pc = pc;
    var video = tile.querySelector("video");
    pc.addTransceiver("video", {direction: "recvonly"});
    pc.addEventListener("track", function (event) {
      video.srcObject = event.streams[0] || new MediaStream([event.track]);
    });
    pc.addEventListener("connectionstatechange", function () {
      if (pc.connectionState === "failed") { say(tile, "连接中断"); }
    });
    say(tile, "连接中…");
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    var response = await fetch(offerUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({hall: hall, camera: camera, profile: profile, sdp: pc.localDescription.sdp})
    });
    var body = await response.json().catch(function () { return {}; });
    if (views.get(tile) !== view) { return; } /* replaced meanwhile */
    if (!response.ok) {
      var detail = typeof body.detail === "string" ? body.detail : "无法打开画面（" + response.status + "）";
      say(tile, detail.indexOf("摄像机离线") >= 0 ? "摄像机离线" : detail);
      pc.close();
      return;
    }
    view.viewer = body.viewer;
    await pc.setRemoteDescription({type: "answer", sdp: body.sdp});
    watch(tile, view);
  }

  function watch(tile, view) {
    /* frames decoded, from the browser's own statistics: shown, and kept for proof of viewing */
    var timer = setInterval(async function () {
      if (views.get(tile) !== view) { clearInterval(timer); return; }
      var stats = await view.pc.getStats();
      stats.forEach(function (item) {
        if (item.type === "inbound-rtp" && item.kind === "video") {
          view.decoded = Math.max(view.decoded, item.framesDecoded || 0);
          view.received = Math.max(view.received, item.packetsReceived || 0);
          tile.setAttribute("data-frames-decoded", String(view.decoded));
          say(tile, (view.profile === "focus" ? "放大 · " : "") + "已解码 " + view.decoded + " 帧");
        }
      });
    }, 1000);
  }

  function toggleFocus(tile) {
    var focused = tile.classList.toggle("live-focus");
    grid.querySelectorAll(".live-tile.live-focus").forEach(function (other) {
      if (other !== tile) { other.classList.remove("live-focus"); start(other, "tile"); }
    });
    start(tile, focused ? "focus" : "tile");
  }

  grid.querySelectorAll(".live-tile").forEach(function (tile) {
    if (tile.getAttribute("data-online") !== "true") { return; }
    tile.addEventListener("click", function () { toggleFocus(tile); });
    tile.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggleFocus(tile); }
    });
    start(tile, "tile").catch(function () { say(tile, "无法打开画面"); });
  });
  if (viewingUrl) { setInterval(function () { report(false); }, 5000); }
  window.addEventListener("pagehide", function () {
    views.forEach(function (_view, tile) { stop(tile); });
    report(true);
  });
  /* The patrol page ends its views before it ends the patrol, with their last counts. */
  window.hallwatchLive = {
    stopAll: function () {
      views.forEach(function (_view, tile) { stop(tile); });
      return report(false);
    }
  };
})();
