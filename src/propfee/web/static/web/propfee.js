/* propfee staff UI: behaviour the templates declare with data attributes (the
   Content-Security-Policy allows no inline script or event handler), and the write dialog of the
   unit page (htmx loads a form into the modal). */
(function () {
  "use strict";
  // <div class="progress-bar" data-share="37.5">: the bar's width, in percent.
  function sizeBars(root) {
    root.querySelectorAll("[data-share]").forEach(function (bar) {
      bar.style.width = bar.dataset.share + "%";
    });
  }
  if (window.htmx) {
    window.htmx.onLoad(sizeBars);
  } else {
    sizeBars(document);
  }
  // <form data-busy="#progress">: while posting, the submit button is disabled and the
  // progress element shown.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.dataset || !form.dataset.busy || event.defaultPrevented) {
      return;
    }
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
    });
    const busy = document.querySelector(form.dataset.busy);
    if (busy) {
      busy.classList.remove("d-none");
    }
  });
  // <input data-enter-stays>: Enter does not submit the form around a search-as-you-type box.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-enter-stays]")) {
      event.preventDefault();
    }
  });
})();

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
