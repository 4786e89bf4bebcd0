// The wallet page: a small client of the player API, written the way a casino front end
// should call it. Every money action is one user intent with one Idempotency-Key; the
// button is locked while it is in flight; only network errors, 5xx answers and "the
// same request is still being processed" are retried, always with the same key, so a
// retry can never do the thing twice. A limit is set with PUT, which needs no key: sending
// it again sets the same limit. Taking a break sends a key too (optional there).
(() => {
  "use strict";
  const app = document.getElementById("app");
  const TOKEN = app.dataset.token;
  const API = app.dataset.api;
  const T = JSON.parse(document.getElementById("ui-messages").textContent);
  const RETRY_DELAYS_MS = [300, 800, 2000, 4000];
  const headers = { Authorization: `Token ${TOKEN}`, Accept: "application/json" };
  let nextPage = null;
  let methodLabels = {}; // payment method id -> label, for explaining closed-loop refusals

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

  async function send(method, path, body, key) {
    const sent = { ...headers, "Content-Type": "application/json" };
    if (key) sent["Idempotency-Key"] = key;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await fetch(API + path, { method, headers: sent, body: JSON.stringify(body) });
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

  const post = (path, body, key) => send("POST", path, body, key);
  const put = (path, body) => send("PUT", path, body, null);
  const when = (iso) => new Date(iso).toLocaleString(document.documentElement.lang);

  function explain(problem) {
    let code = problem.error_code;
    if (code === "VALIDATION_ERROR" && problem.min_amount) code = "AMOUNT_TOO_SMALL";
    if (code === "VALIDATION_ERROR" && problem.max_amount) code = "AMOUNT_TOO_LARGE";
    if (code === "VALIDATION_ERROR" && problem.errors && problem.errors.days) code = "DAYS_OUT_OF_RANGE";
    if (code === "KYC_REQUIRED" && problem.threshold) code = "KYC_REQUIRED_DEPOSIT";
    if ((code === "PLAYER_EXCLUDED" || code === "EXCLUSION_WOULD_SHORTEN") && !problem.ends_at) code += "_FOR_GOOD";
    if (code === "CLOSED_LOOP_VIOLATION") {
      if (!(problem.allowed || []).length) code += "_NOWHERE";
      else if (problem.reason === "not_payout_capable") code += "_NOT_CAPABLE";
    }
    const template = T[code] || T.UNKNOWN;
    const values = { ...problem };
    if (problem.payment_method) values.label = methodLabels[problem.payment_method] || "";
    if (problem.allowed) {
      values.allowed = problem.allowed.map((a) => `${methodLabels[a.payment_method] || "?"}: ${a.amount} ${problem.currency}`).join(", ");
    }
    for (const name of ["action", "tx_type", "from_state", "kind"]) if (values[name]) values[name] = T[values[name]] || values[name];
    if (values.period) values.period = T[`period_${values.period}`] || values.period;
    if (values.ends_at) values.ends_at = when(values.ends_at);
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
    // A chargeback the balance could not cover: the player owes it, and deposits repay it first.
    const owed = body.wallets.filter((w) => Number(w.receivable) > 0);
    const restriction = document.getElementById("restriction");
    restriction.hidden = !owed.length;
    restriction.textContent = owed.length ? fill(T.restricted, { owed: owed.map((w) => `${w.receivable} ${w.currency}`).join(", ") }) : "";
  }

  function historyRow(tx) {
    const tr = document.createElement("tr");
    tr.dataset.id = tx.id;
    tr.dataset.state = tx.state;
    tr.append(cell(when(tx.created_at)), cell(T[tx.type] || tx.type), cell(`${tx.amount} ${tx.currency}`, "num"), cell(T[tx.state] || tx.state));
    const actions = document.createElement("td");
    const receipt = document.createElement("button");
    receipt.className = "link";
    receipt.textContent = T.receipt;
    receipt.addEventListener("click", () => showReceipt(tx.id));
    actions.append(receipt);
    if (tx.cancelable) {
      // Only where the casino allows reverse withdrawals, and only while it awaits review.
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

  function emptyRow(text = T.nothing, columns = 5) {
    const tr = document.createElement("tr");
    const td = cell(text, "muted");
    td.colSpan = columns;
    tr.append(td);
    return tr;
  }

  async function showReceipt(id) {
    const { status, body } = await get(`transactions/${id}/`);
    const box = document.getElementById("receipt");
    if (status !== 200) return notice(explain(body), "error");
    const lines = [`${body.reference} · ${T[body.type] || body.type} · ${body.amount} ${body.currency} · ${T[body.state] || body.state}`];
    if (body.payment_method) lines.push(fill(T[`receipt_method_${body.type}`], body.payment_method));
    for (const step of body.timeline) lines.push(`${when(step.at)} → ${T[step.state] || step.state}`);
    if (body.balance_after) lines.push(fill(T.balance_after, body.balance_after));
    box.textContent = lines.join("\n");
    box.hidden = false;
  }

  const withdrawForm = document.getElementById("withdraw-form");
  const netText = (method) =>
    method.net_deposited.length ? method.net_deposited.map((n) => `${n.amount} ${n.currency}`).join(", ") : "—";

  function methodRow(method) {
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, { id: method.id, kind: method.kind });
    tr.append(
      cell(method.label, "label"),
      cell(T[`method_${method.kind}`] || method.kind),
      cell(method.payout_capable ? T.yes : T.no, "payouts"),
      cell(netText(method), "num net"),
    );
    return tr;
  }

  async function loadMethods() {
    const { status, body } = await get("payment-methods/");
    if (status !== 200) return notice(explain(body), "error");
    const methods = body.payment_methods;
    methodLabels = Object.fromEntries(methods.map((m) => [m.id, m.label]));
    document.getElementById("method-rows").replaceChildren(...(methods.length ? methods.map(methodRow) : [emptyRow(T.no_methods, 4)]));
    // The withdrawal names its destination once the player has a method (the casino requires it then).
    const select = withdrawForm.payment_method;
    const chosen = select.value;
    select.replaceChildren(
      ...methods.map((m) => {
        const option = new Option(m.payout_capable ? m.label : fill(T.no_payouts_to, m), m.id);
        option.disabled = !m.payout_capable;
        return option;
      }),
    );
    const usable = methods.filter((m) => m.payout_capable);
    if (usable.some((m) => m.id === chosen)) select.value = chosen;
    else if (usable.length) select.value = usable[0].id;
    document.getElementById("destination").hidden = !methods.length;
  }

  async function refresh() {
    await loadBalances();
    const recent = await loadHistory();
    await loadMethods();
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
      if (body.error_code === "PLAYER_EXCLUDED") await loadExclusions();
      await refresh();
    });
  });

  withdrawForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    locked(form.querySelector("button"), async () => {
      const request = formValues(form);
      if (form.payment_method.value) request.payment_method = form.payment_method.value;
      const { status, body } = await post("withdrawals/", request, newIdempotencyKey());
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

  // Responsible gambling: the player's own limits, breaks and self-exclusion. Dates are
  // shown in the player's language and time zone.
  const limitForm = document.getElementById("limit-form");
  const confirmBox = document.getElementById("exclusion-confirm");
  const DAY_MS = 24 * 60 * 60 * 1000;
  let pendingExclusion = null; // what the confirmation step starts: its request and its one key

  const limitWords = (limit) => ({
    kind: T[`limit_${limit.kind}`] || limit.kind,
    period: T[`period_${limit.period}`] || limit.period,
    currency: limit.currency,
  });

  function limitRow(limit) {
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, { currency: limit.currency, kind: limit.kind, period: limit.period });
    let waiting = T.no_change;
    if (limit.pending) {
      const template = limit.pending.amount === null ? T.pending_removal : T.pending_raise;
      waiting = fill(template, { ...limit.pending, currency: limit.currency, effective_at: when(limit.pending.effective_at) });
    }
    const words = limitWords(limit);
    const amount = limit.amount === null ? T.no_change : `${limit.amount} ${limit.currency}`;
    tr.append(cell(words.kind, "kind"), cell(words.period), cell(amount, "num amount"), cell(waiting, "pending"));
    return tr;
  }

  async function loadLimits() {
    const { status, body } = await get("limits/");
    if (status !== 200) return notice(explain(body), "error");
    const rows = document.getElementById("limit-rows");
    rows.replaceChildren(...(body.limits.length ? body.limits.map(limitRow) : [emptyRow(T.no_limits, 4)]));
  }

  function exclusionStatus(exclusion) {
    const forGood = exclusion.ends_at === null;
    const template = T[`status_${exclusion.kind}${forGood ? "_for_good" : ""}`] || T.PLAYER_EXCLUDED;
    return fill(template, { kind: T[exclusion.kind] || exclusion.kind, ends_at: forGood ? "" : when(exclusion.ends_at) });
  }

  async function loadExclusions() {
    const { status, body } = await get("exclusions/");
    if (status !== 200) return notice(explain(body), "error");
    // The one that lasts longest is the one that matters: one without an end, else the latest end.
    const ends = (e) => (e.ends_at === null ? Infinity : new Date(e.ends_at).getTime());
    const [longest] = body.exclusions.filter((e) => e.active).sort((a, b) => ends(b) - ends(a));
    const box = document.getElementById("exclusion-status");
    box.hidden = !longest;
    box.textContent = longest ? exclusionStatus(longest) : "";
    box.dataset.kind = longest ? longest.kind : "";
  }

  function limitNotice(limit) {
    const words = limitWords(limit);
    if (limit.pending) {
      const template = limit.pending.amount === null ? T.limit_removal_pending : T.limit_raise_pending;
      const effective_at = when(limit.pending.effective_at);
      return fill(template, { ...words, amount: limit.pending.amount, current: limit.amount, effective_at });
    }
    return limit.amount === null ? fill(T.limit_none, words) : fill(T.limit_set, { ...words, amount: limit.amount });
  }

  async function saveLimit(amount) {
    const body = { currency: limitForm.currency.value, kind: limitForm.kind.value, period: limitForm.period.value, amount };
    const { status, body: answer } = await put("limits/", body);
    if (status === 200) {
      notice(limitNotice(answer), "ok");
      limitForm.amount.value = "";
    } else {
      notice(explain(answer), "error");
    }
    await loadLimits();
  }

  limitForm.addEventListener("submit", (event) => {
    event.preventDefault();
    locked(limitForm.querySelector("button[type=submit]"), () => saveLimit(limitForm.amount.value.trim()));
  });
  const removeButton = document.getElementById("limit-remove");
  removeButton.addEventListener("click", () => locked(removeButton, () => saveLimit(null)));

  function askToConfirm(form) {
    const forGood = Boolean(form.permanent && form.permanent.checked);
    const days = Number(form.days.value);
    if (!forGood && !(Number.isInteger(days) && days >= Number(form.days.min) && days <= Number(form.days.max))) {
      return notice(T.DAYS_OUT_OF_RANGE, "error");
    }
    const kind = form.dataset.kind;
    const ends_at = forGood ? "" : when(new Date(Date.now() + days * DAY_MS).toISOString());
    document.getElementById("confirm-title").textContent = fill(T[`confirm_${kind}${forGood ? "_for_good" : ""}`], { ends_at });
    const effects = [forGood ? T.effect_for_good : fill(T.effect_until, { ends_at }), T.effect_withdrawals, T.effect_final];
    document.getElementById("confirm-effects").replaceChildren(
      ...effects.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        return li;
      }),
    );
    pendingExclusion = { body: forGood ? { kind, permanent: true } : { kind, days }, key: newIdempotencyKey() };
    confirmBox.hidden = false;
    document.getElementById("confirm-yes").focus();
  }

  for (const form of document.querySelectorAll(".exclusion-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      askToConfirm(form);
    });
  }
  const permanent = document.querySelector("#self-exclusion-form input[name=permanent]");
  permanent.addEventListener("change", () => {
    permanent.form.days.disabled = permanent.checked;
  });

  document.getElementById("confirm-no").addEventListener("click", () => {
    pendingExclusion = null;
    confirmBox.hidden = true;
  });
  const confirmButton = document.getElementById("confirm-yes");
  confirmButton.addEventListener("click", () =>
    locked(confirmButton, async () => {
      if (!pendingExclusion) return;
      const { status, body } = await post("exclusions/", pendingExclusion.body, pendingExclusion.key);
      pendingExclusion = null;
      confirmBox.hidden = true;
      if (status === 201) notice(exclusionStatus(body), "ok");
      else notice(explain(body), "error");
      await loadExclusions();
    }),
  );

  // Games: the casino's games (GET games/); Play starts a session (POST games/sessions/, one
  // key per click) and opens the game at the launch URL the casino answers with, in this window.
  const gamesForm = document.getElementById("games-form");

  async function playGame(game, button) {
    const body = { game: game.id, currency: gamesForm.currency.value };
    const { status, body: answer } = await post("games/sessions/", body, newIdempotencyKey());
    if (status === 201 && answer.launch_url) {
      notice(fill(T.game_opening, game), "ok");
      window.location.assign(answer.launch_url);
      return;
    }
    notice(explain(answer), "error");
    if (answer.error_code === "PLAYER_EXCLUDED") await loadExclusions();
    button.focus();
  }

  function gameItem(game) {
    const li = document.createElement("li");
    li.dataset.game = game.id;
    const name = document.createElement("span");
    name.textContent = game.name;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary";
    button.textContent = T.play;
    button.setAttribute("aria-label", fill(T.play_game, game));
    button.dataset.testid = "play";
    button.addEventListener("click", () => locked(button, () => playGame(game, button)));
    li.append(name, " ", button);
    return li;
  }

  async function loadGames() {
    const { status, body } = await get("games/");
    const list = document.getElementById("game-list");
    if (status !== 200) {
      list.replaceChildren();
      return notice(explain(body), "error");
    }
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = T.no_games;
    list.replaceChildren(...(body.games.length ? body.games.map(gameItem) : [empty]));
  }

  loadGames();
  loadLimits();
  loadExclusions();

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
