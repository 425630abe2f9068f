// Stripe's Payment Element on our own checkout page. Stripe.js comes from https://js.stripe.com
// (the one outside script the Content-Security-Policy allows); the keys and the intent's client
// secret arrive in data attributes. Before confirming, the server is told so the processing page
// waits for this try's verdict; Stripe then returns the browser to the processing page.
(function () {
  const form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") return;
  const data = form.dataset;
  const stripe = Stripe(data.publishableKey, { locale: data.locale });
  const elements = stripe.elements({ clientSecret: data.clientSecret });
  const paymentElement = elements.create("payment");
  const button = document.getElementById("payment-submit");
  const message = document.getElementById("payment-message");
  paymentElement.mount("#payment-element");
  paymentElement.on("ready", function () { button.disabled = false; });

  function fail(text) {
    message.textContent = text || data.errorText;
    message.hidden = false;
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    message.hidden = true;
    const token = form.querySelector("input[name=csrf_token]").value;
    fetch(data.confirmingUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("confirming refused");
        return stripe.confirmPayment({ elements: elements, confirmParams: { return_url: data.returnUrl } });
      })
      .then(function (result) {
        // Only reached when Stripe did not redirect: the element shows the card's own error.
        if (result && result.error) fail(result.error.type === "card_error" || result.error.type === "validation_error" ? result.error.message : null);
      })
      .catch(function () { fail(null); });
  });
})();
