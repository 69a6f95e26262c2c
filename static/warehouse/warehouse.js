/* Warehouse screens: loud rejection cue, quantities selected on focus, outcome-specific fields.
   Everything here is an enhancement: the pages work without JavaScript. */
(function () {
  "use strict";

  function beep() {
    // A short low double tone; browsers may refuse audio before a user gesture, which is fine.
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) { return; }
    try {
      var context = new AudioContext();
      [0, 0.25].forEach(function (start) {
        var oscillator = context.createOscillator();
        var gain = context.createGain();
        oscillator.type = "square";
        oscillator.frequency.value = 220;
        gain.gain.value = 0.2;
        oscillator.connect(gain);
        gain.connect(context.destination);
        oscillator.start(context.currentTime + start);
        oscillator.stop(context.currentTime + start + 0.18);
      });
    } catch (error) {
      /* no audio available */
    }
  }

  function selectOnFocus(input) {
    // Typing replaces the prefilled quantity instead of appending to it.
    input.addEventListener("focus", function () { input.select(); });
    if (document.activeElement === input) { input.select(); }
  }

  function toggleOutcomeFields(select) {
    var fieldset = select.closest("fieldset");
    if (!fieldset) { return; }
    fieldset.querySelectorAll("[data-for]").forEach(function (input) {
      var wanted = input.getAttribute("data-for").split(" ");
      var field = input.closest(".field");
      if (field) { field.hidden = wanted.indexOf(select.value) === -1; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-alert-sound]")) { beep(); }
    var scan = document.getElementById("rma-number");
    if (scan) { scan.value = ""; scan.focus(); }
    document.querySelectorAll("[data-select-on-focus]").forEach(selectOnFocus);
    document.querySelectorAll("select[data-outcome]").forEach(function (select) {
      toggleOutcomeFields(select);
      select.addEventListener("change", function () { toggleOutcomeFields(select); });
    });
  });
})();
