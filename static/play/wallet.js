// The wallet page: a small client of the player API, written the way a casino front end
// should call it. Every money action is one user intent with one Idempotency-Key; the
// button is locked while it is in flight; only network errors, 5xx answers and "the
// same request is still being processed" are retried, always with the same key, so a
// retry can never do the thing twice.
(() => {
  "use strict";
  const app = document.getElementById("app");
  const TOKEN = app.dataset.token;
  const API = app.dataset.api;
  const T = JSON.parse(document.getElementById("ui-messages").textContent);
  const RETRY_DELAYS_MS = [300, 800, 2000, 4000];
  const headers = { Authorization: `Token ${TOKEN}`, Accept: "application/json" };
  let nextPage = null;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const fill = (template, values) => template.replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");

  function newIdempotencyKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function get(path) {
    const response = await fetch(API + path, { headers });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  }

  async function post(path, body, key) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await fetch(API + path, {
          method: "POST",
          headers: { ...headers, "Content-Type": "application/json", "Idempotency-Key": key },
          body: JSON.stringify(body),
        });
        const data = await response.json().catch(() => ({}));
        const retriable =
          response.status >= 500 || (response.status === 409 && data.error_code === "IDEMPOTENCY_REQUEST_IN_PROGRESS");
        if (!retriable || attempt >= RETRY_DELAYS_MS.length) return { status: response.status, body: data };
      } catch (networkError) {
        // The request may or may not have reached the casino; the same key makes resending safe.
        if (attempt >= RETRY_DELAYS_MS.length) return { status: 0, body: { error_code: "NETWORK" } };
      }
      await sleep(RETRY_DELAYS_MS[attempt]);
    }
  }

  function explain(problem) {
    let code = problem.error_code;
    if (code === "VALIDATION_ERROR" && problem.min_amount) code = "AMOUNT_TOO_SMALL";
    if (code === "VALIDATION_ERROR" && problem.max_amount) code = "AMOUNT_TOO_LARGE";
    const template = T[code] || T.UNKNOWN;
    const values = { ...problem };
    for (const name of ["action", "tx_type", "from_state"]) if (values[name]) values[name] = T[values[name]] || values[name];
    return fill(template, values);
  }

  function notice(text, kind = "info") {
    const box = document.getElementById("notice");
    box.textContent = text;
    box.className = `notice ${kind}`;
    box.dataset.kind = kind;
    box.hidden = false;
  }

  async function locked(button, work) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await work();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  async function loadBalances() {
    const { status, body } = await get("wallet/");
    if (status !== 200) return notice(explain(body), "error");
    const rows = document.getElementById("balance-rows");
    rows.replaceChildren(
      ...body.wallets.map((w) => {
        const tr = document.createElement("tr");
        tr.dataset.currency = w.currency;
        tr.append(cell(w.currency), cell(w.available, "num available"), cell(w.held, "num held"));
        return tr;
      }),
    );
  }

  function historyRow(tx) {
    const tr = document.createElement("tr");
    tr.dataset.id = tx.id;
    tr.dataset.state = tx.state;
    const when = new Date(tx.created_at).toLocaleString(document.documentElement.lang);
    tr.append(cell(when), cell(T[tx.type] || tx.type), cell(`${tx.amount} ${tx.currency}`, "num"), cell(T[tx.state] || tx.state));
    const actions = document.createElement("td");
    const receipt = document.createElement("button");
    receipt.className = "link";
    receipt.textContent = T.receipt;
    receipt.addEventListener("click", () => showReceipt(tx.id));
    actions.append(receipt);
    if (tx.type === "withdrawal" && tx.state === "requested") {
      const cancel = document.createElement("button");
      cancel.textContent = T.cancel;
      cancel.dataset.testid = "cancel";
      cancel.addEventListener("click", () => locked(cancel, () => cancelWithdrawal(tx)));
      actions.append(" ", cancel);
    }
    tr.append(actions);
    return tr;
  }

  async function loadHistory(append = false) {
    const path = append && nextPage ? nextPage.slice(nextPage.indexOf("transactions/")) : "transactions/?limit=10";
    const { status, body } = await get(path);
    if (status !== 200) return notice(explain(body), "error");
    const rows = document.getElementById("history-rows");
    const items = body.results.map(historyRow);
    if (append) rows.append(...items);
    else rows.replaceChildren(...(items.length ? items : [emptyRow()]));
    nextPage = body.next;
    document.getElementById("more").hidden = !nextPage;
    return body.results;
  }

  function emptyRow() {
    const tr = document.createElement("tr");
    const td = cell(T.nothing, "muted");
    td.colSpan = 5;
    tr.append(td);
    return tr;
  }

  async function showReceipt(id) {
    const { status, body } = await get(`transactions/${id}/`);
    const box = document.getElementById("receipt");
    if (status !== 200) return notice(explain(body), "error");
    const lines = [`${body.reference} · ${T[body.type] || body.type} · ${body.amount} ${body.currency} · ${T[body.state] || body.state}`];
    for (const step of body.timeline) lines.push(`${new Date(step.at).toLocaleString(document.documentElement.lang)} → ${T[step.state] || step.state}`);
    if (body.balance_after) lines.push(fill(T.balance_after, body.balance_after));
    box.textContent = lines.join("\n");
    box.hidden = false;
  }

  async function refresh() {
    await loadBalances();
    const recent = await loadHistory();
    return recent || [];
  }

  async function cancelWithdrawal(tx) {
    const { status, body } = await post(`withdrawals/${tx.id}/cancel/`, {}, newIdempotencyKey());
    if (status === 200) notice(fill(T.withdrawal_canceled, body), "ok");
    else notice(explain(body), "error");
    await refresh();
  }

  function formValues(form) {
    return { amount: form.amount.value.trim(), currency: form.currency.value };
  }

  document.getElementById("deposit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    locked(form.querySelector("button"), async () => {
      const { status, body } = await post("deposits/", formValues(form), newIdempotencyKey());
      if (status === 201 && body.checkout_url) {
        notice(fill(T.deposit_started, body), "ok");
        const back = encodeURIComponent(window.location.href);
        window.location.assign(`${body.checkout_url}?return_url=${back}`);
        return;
      }
      notice(explain(body), "error");
      await refresh();
    });
  });

  document.getElementById("withdraw-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    locked(form.querySelector("button"), async () => {
      const { status, body } = await post("withdrawals/", formValues(form), newIdempotencyKey());
      if (status === 201) {
        notice(fill(T.withdrawal_requested, body), "ok");
        form.reset();
      } else {
        notice(explain(body), "error");
      }
      await refresh();
    });
  });

  document.getElementById("more").addEventListener("click", () => loadHistory(true));

  // After the player comes back from the PSP's checkout the webhook may still be on its
  // way: look again for a while as long as a deposit is waiting for payment.
  (async () => {
    let recent = await refresh();
    for (let i = 0; i < 20 && recent.some((tx) => tx.state === "pending_provider" || tx.state === "created"); i += 1) {
      await sleep(3000);
      recent = await refresh();
    }
  })();
})();
