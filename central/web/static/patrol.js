/* hallwatch patrol page (视频巡查): records findings and ends the patrol through the API (written
 * here, no third-party code). The live grid is live.js's; ending first stops every view and posts
 * its last counts, so central judges the patrol on what the browser really decoded. */
(function () {
  "use strict";
  var grid = document.getElementById("live-grid");
  var csrf = grid ? grid.getAttribute("data-csrf") : "";

  function post(url, body) { return window.hallwatchApi.post(url, body, csrf); }

  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }

  function addFinding(finding) {
    var row = document.createElement("tr");
    row.setAttribute("data-finding", String(finding.id));
    row.appendChild(cell(new Date(finding.at).toLocaleString("zh-CN", {timeZone: "Asia/Shanghai"})));
    row.appendChild(cell(finding.window_name + "（" + finding.window + "）"));
    row.appendChild(cell(finding.category_label));
    row.appendChild(cell(finding.note));
    row.appendChild(cell("截图与片段上传中（刷新后可查看）"));
    row.setAttribute("data-status", finding.status);
    var state = cell(finding.status_label);
    state.className = "finding-state";
    row.appendChild(state);
    var review = document.createElement("td");
    review.className = "finding-review";
    // The patrol's own inspector may review what they recorded (finding_review.js).
    if (window.hallwatchFindings) { review.appendChild(window.hallwatchFindings.reviewContent(finding, true)); }
    row.appendChild(review);
    document.querySelector("#findings tbody").appendChild(row);
    var count = document.getElementById("findings-count");
    count.textContent = String(Number(count.textContent) + 1);
  }

  var findingForm = document.getElementById("finding-form");
  if (findingForm) {
    findingForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = document.getElementById("finding-status");
      status.textContent = "正在记录…";
      post(findingForm.getAttribute("data-url"), {
        window: findingForm.elements.window.value,
        category: findingForm.elements.category.value,
        note: findingForm.elements.note.value
      }).then(function (finding) {
        addFinding(finding);
        findingForm.elements.note.value = "";
        status.textContent = "已记录：" + finding.category_label + "（" + finding.window_name + "）";
      }).catch(function (error) { status.textContent = "未能记录：" + error.message; });
    });
  }

  var endForm = document.getElementById("end-form");
  if (endForm) {
    endForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = document.getElementById("end-status");
      status.textContent = "正在结束巡查…";
      var stopped = window.hallwatchLive ? window.hallwatchLive.stopAll() : Promise.resolve();
      Promise.resolve(stopped).catch(function () { return null; }).then(function () {
        return post(endForm.getAttribute("data-url"), {note: endForm.elements.note.value || null});
      }).then(function () {
        window.location.reload();
      }).catch(function (error) { status.textContent = "未能结束：" + error.message; });
    });
  }
})();
