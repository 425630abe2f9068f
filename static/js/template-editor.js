// Template editor: a live preview of the draft and buttons that insert variables.
// Settings come from the JSON block the server renders; the server's answer is shown as text
// (textContent) and the HTML version only inside a sandboxed iframe, so a draft cannot touch
// this page.
(function () {
  "use strict";
  const source = document.getElementById("template-editor-data");
  const form = document.getElementById("template-form");
  if (!source || !form) return;
  const config = JSON.parse(source.textContent);
  const byId = (id) => document.getElementById(id);
  const errorList = byId("preview-errors");
  const subject = byId("preview-subject");
  const text = byId("preview-text");
  const frame = byId("preview-html");
  const status = byId("preview-status");
  const DEBOUNCE_MS = 300;
  let timer = null;
  let sequence = 0; // answers to older drafts are ignored
  let lastField = form.elements.namedItem("body_text");

  function fieldValue(name) {
    const field = form.elements.namedItem(name);
    return field ? field.value : "";
  }

  function showErrors(messages) {
    errorList.replaceChildren(
      ...messages.map((message) => {
        const item = document.createElement("li");
        item.textContent = message;
        return item;
      })
    );
  }

  function show(result) {
    showErrors(result.errors || []);
    if (subject) subject.textContent = result.subject || "";
    text.textContent = result.text || "";
    if (frame) {
      frame.srcdoc = result.html || "";
      frame.hidden = !result.html;
    }
    status.textContent = result.text == null ? config.labels.unavailable : config.labels.updated;
  }

  async function refresh() {
    const mine = ++sequence;
    status.textContent = config.labels.updating;
    try {
      const response = await fetch(config.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": config.csrfToken,
        },
        body: JSON.stringify({
          purpose: config.purpose,
          channel: config.channel,
          locale: config.locale,
          subject: fieldValue("subject"),
          body_text: fieldValue("body_text"),
          body_html: fieldValue("body_html"),
        }),
      });
      const result = await response.json();
      if (mine !== sequence) return;
      if (result.error) {
        // An error page in JSON (expired form, signed out): say so, keep the draft.
        showErrors([result.error.message]);
        status.textContent = config.labels.failed;
        return;
      }
      show(result);
    } catch (error) {
      if (mine === sequence) status.textContent = config.labels.failed;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("focusin", (event) => {
    if (event.target.matches("textarea, input[type='text']")) lastField = event.target;
  });
  document.querySelectorAll("[data-variable]").forEach((button) => {
    button.addEventListener("click", () => {
      const snippet = "{{ " + button.dataset.variable + " }}";
      const start = lastField.selectionStart ?? lastField.value.length;
      const end = lastField.selectionEnd ?? start;
      lastField.setRangeText(snippet, start, end, "end");
      lastField.focus();
      schedule();
    });
  });
  refresh();
})();
