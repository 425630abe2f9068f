// The live support conversation, for the borrower's chat page and the agent's conversation view.
// Every message carries a number (seq): on each (re)connection the page asks for everything after
// the last number it has, and drops a number it already shows, so nothing is lost or repeated.
// A message is sent with an id made here; a resend after a dropped connection reuses it, and the
// server stores it once. Text goes into the page with textContent only, never as HTML.
(function () {
  "use strict";
  const source = document.getElementById("support-data");
  const thread = document.getElementById("support-thread");
  if (!source || !thread || typeof io === "undefined") return;
  const config = JSON.parse(source.textContent);
  const strings = config.strings || {};
  const conversationId = config.conversation.id;
  const isStaff = config.role === "staff";
  const shown = new Set();
  let lastSeq = 0;
  let typingTimer = null;
  let lastTypingSent = 0;

  // Inside the launcher's panel (an iframe), the page drops its chrome even after a form redirect.
  if (window.self !== window.top) document.body.classList.add("embedded");

  const el = (id) => document.getElementById(id);
  const socket = io(config.namespace);  // long-polling first, then upgraded to WebSocket

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  // The portal's own links (a pay page, plan offers) become links; anything else stays text.
  const ownOrigins = new Set([window.location.origin]);
  try { if (config.public_url) ownOrigins.add(new URL(config.public_url).origin); } catch (e) { /* not a URL */ }
  function appendText(container, text) {
    const parts = String(text).split(/(https?:\/\/[^\s<>"']+)/);
    parts.forEach((part, index) => {
      let url = null;
      if (index % 2 === 1) {
        try { url = new URL(part); } catch (e) { url = null; }
      }
      if (url && ownOrigins.has(url.origin)) {
        const link = document.createElement("a");
        link.href = url.href;
        link.textContent = part;
        link.rel = "noopener";
        container.append(link);
      } else if (part) {
        container.append(document.createTextNode(part));
      }
    });
  }

  // In the reader's own clock and language (the server's text is in the sender's zone).
  function localTime(message) {
    if (!message.created_at) return "";
    const when = new Date(message.created_at);
    if (Number.isNaN(when.getTime())) return message.time || "";
    return when.toLocaleString(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" });
  }

  function bubble(message, pending) {
    const mine = isStaff ? message.sender === "agent" : message.sender === "borrower";
    const item = document.createElement("div");
    item.className = "support-message " + (message.sender === "system" ? "support-system" : mine ? "support-mine" : "support-theirs");
    if (message.private_note) item.classList.add("support-private");
    item.dataset.testid = "support-message";
    item.setAttribute("data-testid", "support-message");
    if (message.seq) item.dataset.seq = String(message.seq);
    if (message.client_id) item.dataset.clientId = message.client_id;
    const meta = document.createElement("div");
    meta.className = "support-meta small text-muted";
    const parts = [mine ? strings.you : message.sender_name, localTime(message)];
    if (message.channel === "sms") parts.push(message.channel_label);
    if (message.private_note) parts.push(strings.private_note);
    if (pending) parts.push(strings.sending);
    meta.textContent = parts.filter(Boolean).join(" · ");
    const body = document.createElement("div");
    body.className = "support-body";
    appendText(body, message.body);
    item.append(meta, body);
    if (message.delivery) {
      const delivery = document.createElement("div");
      delivery.className = "support-delivery small";
      delivery.setAttribute("data-testid", "support-delivery");
      delivery.textContent = message.delivery;
      item.append(delivery);
    }
    return item;
  }

  function add(message) {
    if (!message || message.conversation_id !== conversationId || shown.has(message.seq)) return;
    shown.add(message.seq);
    lastSeq = Math.max(lastSeq, message.seq);
    const pending = message.client_id ? thread.querySelector('[data-pending="' + CSS.escape(message.client_id) + '"]') : null;
    const item = bubble(message, false);
    if (pending) pending.replaceWith(item);
    else thread.append(item);
    thread.scrollTop = thread.scrollHeight;
    if (document.visibilityState === "visible" && message.sender !== (isStaff ? "agent" : "borrower")) {
      socket.emit("read", { conversation_id: conversationId, seq: lastSeq });
    }
  }

  function showState(state) {
    if (!state || state.id !== conversationId) return;
    const status = el("support-status");
    if (status) status.textContent = state.status_label;
    const queue = el("support-queue");
    if (queue) {
      queue.hidden = !state.queue_text;
      queue.textContent = state.queue_text || "";
    }
    if (state.status === "closed") {
      const composer = el("support-composer");
      if (composer) composer.hidden = true;
      if (!isStaff) window.setTimeout(() => window.location.reload(), 1500);
    }
  }

  function join() {
    socket.emit("resume", { conversation_id: conversationId, after_seq: lastSeq }, (answer) => {
      if (!answer || !answer.ok) return;
      showState(answer.conversation);
      answer.messages.forEach(add);
    });
  }

  socket.on("connect", () => {
    el("support-offline").hidden = true;
    join();
  });
  socket.on("disconnect", () => {
    const offline = el("support-offline");
    offline.textContent = strings.offline;
    offline.hidden = false;
  });
  socket.on("chat_message", add);
  socket.on("conversation", showState);
  socket.on("typing", (event) => {
    if (event.conversation_id !== conversationId) return;
    const typing = el("support-typing");
    typing.textContent = strings.typing;
    typing.hidden = false;
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(() => { typing.hidden = true; }, 4000);
  });
  socket.on("read", (event) => {
    if (event.conversation_id !== conversationId) return;
    thread.querySelectorAll(".support-mine").forEach((item) => {
      if (Number(item.dataset.seq) <= event.seq) item.classList.add("support-read");
    });
  });

  const composer = el("support-composer");
  if (!composer) return;
  const input = el("support-body");
  const error = el("support-error");
  function send(message) {
    socket.emit("send", message, (answer) => {
      if (answer && answer.ok) return;  // the broadcast "message" replaces the pending bubble
      error.textContent = (strings.failed || "%(reason)s").replace("%(reason)s", answer ? answer.error : "");
      error.hidden = false;
    });
  }
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    const privateBox = el("support-private");
    const message = {
      conversation_id: conversationId,
      client_id: newClientId(),
      body: body,
      private_note: Boolean(privateBox && privateBox.checked),
    };
    const pending = bubble({ ...message, sender: isStaff ? "agent" : "borrower" }, true);
    pending.dataset.pending = message.client_id;
    thread.append(pending);
    thread.scrollTop = thread.scrollHeight;
    input.value = "";
    error.hidden = true;
    // Buffered by the client while offline and sent on reconnection; the id makes it once.
    send(message);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  // The customer panel's quick links (it comes after this script in the page: delegate).
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-insert-link]");
    if (!button) return;
    const link = button.getAttribute("data-insert-link");
    input.value = input.value ? input.value.replace(/\s*$/, " ") + link : link;
    input.focus();
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (now - lastTypingSent > 2000) {
      lastTypingSent = now;
      socket.emit("typing", { conversation_id: conversationId });
    }
  });
})();
