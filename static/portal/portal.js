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

  // The estimate follows the choices: the form (without its photos) is posted to the
  // estimate address and the fragment the server renders takes the panel's place, so the
  // page shows exactly what the server computes. Without this, "Update estimate" does it.
  var form = document.querySelector("form[data-estimate-url]");
  var panel = document.querySelector("[data-estimate-panel]");
  if (form && panel && window.fetch && window.FormData) {
    var button = form.querySelector("[data-estimate-button]");
    if (button) {
      button.hidden = true;
    }
    var pending = null;
    var latest = 0;
    var refresh = function () {
      var data = new FormData(form);
      form.querySelectorAll("input[type=file]").forEach(function (input) {
        data.delete(input.name);
      });
      var ticket = ++latest;
      window.fetch(form.getAttribute("data-estimate-url"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null && ticket === latest) {
          panel.innerHTML = html;
        }
      }).catch(function () {
        if (button) {
          button.hidden = false; // fall back to asking the server with the page
        }
      });
    };
    var schedule = function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(refresh, 150);
    };
    form.addEventListener("change", schedule);
    form.addEventListener("input", schedule);
    refresh();
  }

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

  // Busy state: a submit button marked data-busy-text says so and is disabled once its
  // form is on its way, so a second click cannot send it twice. Disabled just after the
  // submit event (a disabled button would drop out of what the form sends). Without this
  // file the button simply stays as it is.
  document.querySelectorAll("form").forEach(function (busyForm) {
    busyForm.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || !submitter.hasAttribute("data-busy-text")) {
        return;
      }
      if (busyForm.getAttribute("data-busy") === "true") {
        event.preventDefault();
        return;
      }
      busyForm.setAttribute("data-busy", "true");
      window.setTimeout(function () {
        submitter.setAttribute("data-idle-text", submitter.textContent);
        submitter.textContent = submitter.getAttribute("data-busy-text");
        submitter.disabled = true;
        submitter.setAttribute("aria-disabled", "true");
      }, 0);
    });
  });
  // Back to a page kept in the browser's cache: its buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-busy=true]").forEach(function (busyForm) {
      busyForm.removeAttribute("data-busy");
      busyForm.querySelectorAll("[data-idle-text]").forEach(function (button) {
        button.textContent = button.getAttribute("data-idle-text");
        button.disabled = false;
        button.removeAttribute("aria-disabled");
      });
    });
  });
})();
