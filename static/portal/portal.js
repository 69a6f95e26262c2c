/* Returns portal: progressive enhancement only; every page works without this file. */
(function () {
  "use strict";

  // Take keyboard and screen-reader users straight to the list of problems.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }

  // Show a line's photo upload only when its chosen reason needs a photo.
  document.querySelectorAll("select[data-photo-reasons]").forEach(function (select) {
    var wrapper = document.querySelector('[data-photo-for="' + select.id + '"]');
    if (!wrapper) {
      return;
    }
    var needsPhoto = select.getAttribute("data-photo-reasons").split(" ").filter(Boolean);
    var input = wrapper.querySelector("input[type=file]");
    function update() {
      var needed = needsPhoto.indexOf(select.value) !== -1;
      var hasError = wrapper.classList.contains("field--error");
      wrapper.hidden = !needed && !hasError;
      if (wrapper.hidden && input) {
        input.value = "";
      }
    }
    select.addEventListener("change", update);
    update();
  });

  // Choosing a quantity or reason for an item selects it for return.
  document.querySelectorAll("[data-testid=eligible-line]").forEach(function (line) {
    var checkbox = line.querySelector("input[type=checkbox]");
    line.querySelectorAll("select, input[type=number]").forEach(function (control) {
      control.addEventListener("change", function () {
        if (checkbox && control.value) {
          checkbox.checked = true;
        }
      });
    });
  });

  // Exchange pickers: shown only while "Exchange" is the chosen resolution (without this
  // file they are always shown, and read only for an exchange). Picking a variant selects
  // the item for return.
  var pickers = document.querySelectorAll("[data-exchange-picker]");
  var resolutions = document.querySelectorAll("input[name=resolution]");
  if (pickers.length) {
    var showPickers = function () {
      var checked = document.querySelector("input[name=resolution]:checked");
      var exchange = resolutions.length === 0 || (checked && checked.value === "EXCHANGE");
      pickers.forEach(function (picker) {
        var hasError = picker.classList.contains("field--error");
        picker.hidden = !exchange && !hasError;
      });
    };
    resolutions.forEach(function (radio) {
      radio.addEventListener("change", showPickers);
    });
    showPickers();
    pickers.forEach(function (picker) {
      var line = picker.closest("[data-testid=eligible-line]");
      var checkbox = line && line.querySelector("input[type=checkbox]");
      picker.querySelectorAll("input[type=radio]").forEach(function (radio) {
        radio.addEventListener("change", function () {
          if (checkbox && radio.checked) {
            checkbox.checked = true;
          }
        });
      });
    });
  }
})();
