// The sandbox slot's page: Spin posts to the game's own server, which calls the casino
// (bet, then win) and answers with the reels, the new balance and the history. The button
// stays locked while a spin is in flight, so a double click plays one round. Without this
// script the form still works (a plain post and a redirect back to the page).
(() => {
  "use strict";
  const form = document.getElementById("spin-form");
  if (!form) return;
  const button = document.getElementById("spin");
  const message = document.getElementById("message");
  const balance = document.getElementById("balance");
  const reels = document.getElementById("reels");
  const history = document.getElementById("history");

  function showReels(symbols, texts) {
    reels.replaceChildren(
      ...symbols.map((symbol, index) => {
        const cell = document.createElement("span");
        cell.className = "reel";
        cell.dataset.symbol = symbol;
        cell.textContent = texts[index];
        return cell;
      }),
    );
    reels.setAttribute("aria-label", `Reels: ${texts.join(", ")}`);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    message.textContent = "Spinning…";
    const data = new FormData(form);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({
          session: data.get("session"),
          currency: data.get("currency"),
          amount: data.get("amount"),
        }),
      });
      const result = await response.json();
      if (!response.ok) {
        message.textContent = result.error || "The game could not take this spin.";
        return;
      }
      if (result.reels.length) showReels(result.reels, result.reels_text);
      if (result.balance !== null) balance.textContent = result.balance;
      message.textContent = result.message;
      message.dataset.state = result.state;
      history.innerHTML = result.history_html; // built and escaped by the game's server
    } catch (error) {
      message.textContent = "The game server is not reachable. Please try again.";
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
})();
