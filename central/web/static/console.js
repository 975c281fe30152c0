/* hallwatch console: small progressive enhancements, written here (no third-party code).
 * Pages work without it; with it, filters apply as soon as a choice is made with the mouse,
 * keyboard users confirm with Enter (so arrowing through a list does not reload the page),
 * and "/" jumps to the case-number search. */
(function () {
  "use strict";

  var keyboard = false;
  document.addEventListener("keydown", function () { keyboard = true; }, true);
  document.addEventListener("pointerdown", function () { keyboard = false; }, true);

  function submitClean(form) {
    // Leave empty filters out of the address, so it stays short and easy to share.
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value.trim() !== "") { params.append(name, value.trim()); }
    });
    var query = params.toString();
    window.location.assign(form.getAttribute("action") + (query ? "?" + query : ""));
  }

  function changed(field) {
    if (field.tagName === "SELECT") {
      for (var i = 0; i < field.options.length; i++) {
        if (field.options[i].selected !== field.options[i].defaultSelected) { return true; }
      }
      return false;
    }
    return field.value !== field.defaultValue;
  }

  function setUpFilters(form) {
    form.addEventListener("change", function (event) {
      var field = event.target;
      if (field.name === "hall") {
        var department = form.elements.namedItem("department");
        if (department) { department.value = ""; }  // departments belong to a hall
      }
      if (field.tagName === "SELECT" && !keyboard) { submitClean(form); }
    });
    // Keyboard changes and typed dates apply when the person leaves the field.
    form.addEventListener("focusout", function (event) {
      var field = event.target;
      if ((field.tagName === "SELECT" || field.type === "date") && changed(field)) {
        if (field.type !== "date" || field.value === "" || field.checkValidity()) { submitClean(form); }
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitClean(form);
    });
  }

  function setUpShortcut() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var active = document.activeElement;
      if (active && (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA")) { return; }
      var search = document.querySelector("input[name=case_no]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-autosubmit]");
    for (var i = 0; i < forms.length; i++) { setUpFilters(forms[i]); }
    setUpShortcut();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
