/* hallwatch patrol page: reviewing findings (确认 / 不予认定) through the API (written here, no
 * third-party code). Confirming raises the finding's correction signal; dismissing needs a reason.
 * The row then shows the decision as the page would after a reload (finding_review.html). */
(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var csrf = table.getAttribute("data-csrf") || "";

  function post(url, body) { return window.hallwatchApi.post(url, body, csrf); }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function hint(text) {
    var span = document.createElement("span");
    span.className = "hint";
    span.textContent = text;
    return span;
  }

  /* The review cell's content for a finding as the API answers it; `reviewable`: show the form. */
  function reviewContent(finding, reviewable) {
    var box = document.createDocumentFragment();
    if (finding.status === "confirmed") {
      if (finding.signal_id) { box.appendChild(link("/console/signals/" + finding.signal_id, "纠错信号 #" + finding.signal_id)); }
      if (finding.absence_url) {
        box.appendChild(document.createTextNode(" · "));
        box.appendChild(link(finding.absence_url, "摄像机离岗记录 #" + finding.absence_id));
      } else if (finding.category === "absent") {
        box.appendChild(document.createTextNode(" · 无对应的摄像机离岗记录"));
      }
      if (finding.review_note) { box.appendChild(document.createElement("br")); box.appendChild(hint(finding.review_note)); }
    } else if (finding.status === "dismissed") {
      box.appendChild(hint("理由：" + (finding.review_note || "")));
    } else if (reviewable) {
      box.appendChild(reviewForm(finding.id));
    } else {
      box.appendChild(document.createTextNode("—"));
    }
    return box;
  }

  function reviewForm(id) {
    var form = document.createElement("form");
    form.className = "finding-review-form";
    form.setAttribute("data-confirm-url", "/api/v1/patrols/findings/" + id + "/confirm");
    form.setAttribute("data-dismiss-url", "/api/v1/patrols/findings/" + id + "/dismiss");
    form.setAttribute("aria-label", "认定巡查发现 #" + id);
    var label = document.createElement("label");
    label.className = "sr-only";
    label.htmlFor = "review-note-" + id;
    label.textContent = "认定说明（不予认定须填写理由）";
    var input = document.createElement("input");
    input.id = "review-note-" + id;
    input.name = "note";
    input.maxLength = 500;
    input.placeholder = "说明（不予认定须填写理由）";
    form.appendChild(label);
    form.appendChild(input);
    [["confirm", "确认"], ["dismiss", "不予认定"]].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "submit";
      button.name = "decision";
      button.value = pair[0];
      button.textContent = pair[1];
      form.appendChild(document.createTextNode(" "));
      form.appendChild(button);
    });
    var status = document.createElement("span");
    status.className = "form-status";
    status.setAttribute("role", "status");
    form.appendChild(document.createTextNode(" "));
    form.appendChild(status);
    return form;
  }

  function show(row, finding) {
    row.setAttribute("data-status", finding.status);
    row.querySelector(".finding-state").textContent = finding.status_label;
    var cell = row.querySelector(".finding-review");
    cell.textContent = "";
    cell.appendChild(reviewContent(finding, false));
  }

  table.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("finding-review-form")) { return; }
    event.preventDefault();
    var decision = event.submitter && event.submitter.value === "dismiss" ? "dismiss" : "confirm";
    var status = form.querySelector(".form-status");
    var note = form.elements.note.value.trim();
    if (decision === "dismiss" && !note) {
      status.textContent = "不予认定须填写理由。";
      form.elements.note.focus();
      return;
    }
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    status.textContent = decision === "confirm" ? "正在确认…" : "正在提交…";
    post(form.getAttribute("data-" + decision + "-url"), {note: note || null}).then(function (finding) {
      show(form.closest("tr"), finding);
    }).catch(function (error) {
      buttons.forEach(function (b) { b.disabled = false; });
      status.textContent = (decision === "confirm" ? "未能确认：" : "未能提交：") + error.message;
    });
  });

  window.hallwatchFindings = {reviewContent: reviewContent};
})();
