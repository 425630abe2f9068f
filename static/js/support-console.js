// The agent console's lists follow the inbox: when the queue changes or a conversation is
// assigned to this agent, the page reloads its lists (the server renders them, escaped).
(function () {
  "use strict";
  const source = document.getElementById("support-console-data");
  if (!source || typeof io === "undefined") return;
  const config = JSON.parse(source.textContent);
  const socket = io(config.namespace);  // long-polling first, then upgraded to WebSocket
  let reloading = null;
  function reloadSoon() {
    if (reloading) return;
    reloading = window.setTimeout(() => window.location.reload(), 800);
  }
  socket.on("queue", (event) => {
    const count = document.getElementById("support-queue-count");
    if (count && String(event.waiting) !== count.dataset.count) reloadSoon();
  });
  socket.on("assigned", reloadSoon);
})();
