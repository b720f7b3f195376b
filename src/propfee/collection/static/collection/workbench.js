/* propfee 催收工作台: the contact form shows the recommended handling of the chosen reason code
   and the links its outcome offers (登记服务问题, 申请分期). Delegated, so forms loaded by htmx
   work too. */
(function () {
  "use strict";
  function refresh(form) {
    const reason = form.querySelector("[data-reason]");
    const shown = form.querySelector("[data-handling]");
    const data = form.querySelector("#reason-handling");
    if (reason && shown && data) {
      const handling = JSON.parse(data.textContent);
      shown.textContent = reason.value && handling[reason.value] ? handling[reason.value] : "";
    }
    const outcome = form.querySelector("[data-outcome]");
    form.querySelectorAll("[data-when]").forEach(function (link) {
      link.classList.toggle("d-none", !outcome || outcome.value !== link.dataset.when);
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.submit();
      return;
    }
    const form = event.target.closest("[data-contact-form]");
    if (form) {
      refresh(form);
    }
  });
  // Forms that undo something ask first (取消承诺).
  document.addEventListener("submit", function (event) {
    const message = event.target.dataset ? event.target.dataset.confirm : "";
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    const form = event.detail.target.closest
      ? event.detail.target.querySelector("[data-contact-form]") || event.detail.target.closest("[data-contact-form]")
      : null;
    if (form) {
      refresh(form);
    }
  });
})();
