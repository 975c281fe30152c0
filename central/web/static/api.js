/* hallwatch console: the one JSON POST the patrol page's scripts share (written here, no third-party
 * code). Sends the session's CSRF token; a refusal becomes an Error with central's zh-CN `message`,
 * else its `detail` when that is text, else the status. */
(function () {
  "use strict";
  function post(url, body, csrf) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf || ""},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var text = typeof data.message === "string" ? data.message
            : typeof data.detail === "string" ? data.detail : "请求失败（" + response.status + "）";
          throw new Error(text);
        }
        return data;
      });
    });
  }
  window.hallwatchApi = {post: post};
})();
