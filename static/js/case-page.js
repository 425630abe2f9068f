// Case page: reveal a masked field in place (the server audits it), and show the promise fields
// of the call form only for a "promise to pay" outcome. Without JavaScript both still work.
(function () {
  "use strict";

  document.querySelectorAll("form[data-reveal-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const field = form.querySelector("input[name=field]").value;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          const target = document.querySelector('[data-reveal-target="' + field + '"]');
          if (target) target.textContent = data.value; // text, never HTML
          form.remove();
        })
        .catch(function () {
          form.submit(); // fall back to the full page, which shows the error
        });
    });
  });

  const outcome = document.querySelector("[data-call-outcome]");
  const promiseFields = document.querySelector("[data-promise-fields]");
  if (outcome && promiseFields) {
    const toggle = function () {
      promiseFields.hidden = outcome.value !== "promise_to_pay";
    };
    outcome.addEventListener("change", toggle);
    toggle();
  }
})();
