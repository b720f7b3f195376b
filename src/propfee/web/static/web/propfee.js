/* propfee staff UI: the write dialog of the unit page (htmx loads a form into the modal). */
(function () {
  "use strict";
  const modal = document.getElementById("write-modal");
  if (!modal) {
    return;
  }
  const dialog = document.getElementById("write-dialog");
  const loading = dialog.innerHTML;
  // A dialog opened again shows the spinner until its form arrives, never the last form.
  modal.addEventListener("hidden.bs.modal", function () {
    dialog.innerHTML = loading;
  });
  // Put the cursor in the first box of a dialog that has just arrived.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== dialog) {
      return;
    }
    const first = dialog.querySelector(
      "input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea"
    );
    if (first) {
      first.focus();
    }
  });
})();
