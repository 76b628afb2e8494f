// The demo page: shows what the emulator renders for the chosen person, and sends what they do.
// Message and modal HTML comes escaped from the emulator; everything else is built as DOM text.
"use strict";

const GENERAL = "C0GENERAL";
const page = {
  user: localStorage.getItem("demo.user") || "UANA",
  channel: localStorage.getItem("demo.channel") || GENERAL,
  openThreads: new Set(),
  data: null,
  modalKey: null,
  loading: null,
  again: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const out = await response.json().catch(() => ({ ok: false, error: response.statusText }));
  if (out.ok === false && out.error && !out.errors) toast(`Slack: ${out.error}`);
  return out;
}

let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("show"), 3500);
}

// One fetch at a time; changes that arrive meanwhile cause one more.
async function refresh() {
  if (page.loading) { page.again = true; return page.loading; }
  page.loading = (async () => {
    do {
      page.again = false;
      const query = new URLSearchParams({ user: page.user, channel: page.channel });
      const response = await fetch(`/demo/state?${query}`);
      if (!response.ok) { page.user = "UANA"; page.channel = GENERAL; continue; }
      page.data = await response.json();
      render(page.data);
      await refreshSandbox();
    } while (page.again);
  })().finally(() => { page.loading = null; });
  return page.loading;
}

function render(data) {
  page.channel = data.channel.id;
  localStorage.setItem("demo.channel", page.channel);
  renderSidebar(data);
  const here = data.channel;
  $("channel-name").textContent = placeName(here);
  $("channel-kind").textContent = here.hint;
  $("compose-text").placeholder = `Message ${placeName(here)} — try /meet help`;
  renderMessages(data.messages);
  renderModal(data.modal);
}

function renderSidebar(data) {
  const who = $("who");
  if (who.options.length !== data.users.length) {
    who.replaceChildren(...data.users.map((u) =>
      el("option", { value: u.id }, `${u.name}${u.admin ? " (admin)" : ""}`)));
  }
  who.value = data.me;
  const me = data.users.find((u) => u.id === data.me);
  $("tz").textContent = me ? `Time zone: ${me.tz}` : "";
  const item = (c) => {
    const li = el("li", {
      class: [c.id === data.channel.id ? "active" : "", c.unread && c.id !== data.channel.id ? "unread" : ""].join(" "),
      "data-channel": c.id,
      onclick: () => { page.channel = c.id; refresh(); },
      "data-kind": c.kind,
      "data-bot": String(c.bot),
      title: c.hint,
    }, el("span", {}, placeName(c)));
    if (c.kind === "public" || c.kind === "private") {
      li.append(el("span", { class: `bot-badge${c.bot ? " in" : ""}` }, c.bot ? "meetbot" : "no bot"));
    }
    if (c.unread && c.id !== data.channel.id) li.append(el("span", { class: "count" }, String(c.unread)));
    return li;
  };
  const of = (...kinds) => data.channels.filter((c) => kinds.includes(c.kind)).map(item);
  $("channels").replaceChildren(...of("public", "private"));
  $("people").replaceChildren(...of("im", "mpim"));
  $("dms").replaceChildren(...of("app"));
}

/** How Slack names a place in the sidebar: # public, 🔒 private, ● a DM or an app. */
function placeName(c) {
  if (c.kind === "public") return `# ${c.label}`;
  if (c.kind === "private") return `🔒 ${c.label}`;
  return `● ${c.label}`;
}

function messageNode(m, extra) {
  const node = el("div", { class: `msg${m.ephemeral ? " ephemeral" : ""}${extra || ""}`, "data-ts": m.ts });
  node.innerHTML = m.html; // rendered and escaped by the emulator
  return node;
}

function renderMessages(messages) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const drafts = {};
  box.querySelectorAll(".thread-reply input").forEach((i) => { drafts[i.dataset.thread] = i.value; });
  const nodes = messages.map((m) => {
    const node = messageNode(m);
    if (m.replies.length) {
      const open = page.openThreads.has(m.ts);
      const count = m.replies.length;
      const toggle = el("button", {
        class: "thread-toggle",
        type: "button",
        onclick: () => { open ? page.openThreads.delete(m.ts) : page.openThreads.add(m.ts); render(page.data); },
      }, open ? "Hide replies" : `${count} ${count === 1 ? "reply" : "replies"}`);
      const main = node.querySelector(".msg-main") || node;
      main.append(toggle);
      if (open) {
        const input = el("input", { placeholder: "Reply…", "data-thread": m.ts });
        input.value = drafts[m.ts] || "";
        const form = el("form", { class: "thread-reply", onsubmit: (e) => { e.preventDefault(); send(input.value, m.ts); input.value = ""; } },
          input, el("button", { type: "submit", class: "blk-button" }, "Reply"));
        main.append(el("div", { class: "thread" }, ...m.replies.map((r) => messageNode(r, " reply")), form));
      }
    }
    return node;
  });
  if (!nodes.length) nodes.push(el("p", { class: "day-empty" }, "No messages yet. Type /meet help below."));
  box.replaceChildren(...nodes);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// --- buttons in messages (block_actions) -----------------------------------------------------

$("messages").addEventListener("click", async (event) => {
  const button = event.target.closest(".blk-button[data-action-id]");
  if (!button) return;
  const message = button.closest(".msg");
  if (button.dataset.confirm && !(await confirmDialog(JSON.parse(button.dataset.confirm)))) return;
  if (button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
  await post("/demo/action", {
    user: page.user,
    channel: page.channel,
    ts: message.dataset.ts,
    block_id: button.dataset.blockId,
    action_id: button.dataset.actionId,
  });
});

function confirmDialog(spec) {
  return new Promise((resolve) => {
    const root = $("confirm-root");
    const done = (answer) => { root.replaceChildren(); resolve(answer); };
    const title = el("header", {}); title.innerHTML = spec.title;
    const body = el("div", { class: "body" }); body.innerHTML = spec.text;
    const yes = el("button", { class: `submit ${spec.style || ""}`, type: "button", onclick: () => done(true) });
    yes.innerHTML = spec.confirm;
    const no = el("button", { type: "button", onclick: () => done(false) });
    no.innerHTML = spec.deny;
    root.replaceChildren(el("div", { class: "overlay" }, el("div", { class: "dialog", role: "alertdialog" }, title, body, el("footer", {}, no, yes))));
  });
}

// --- modals (views.open → view_submission) ---------------------------------------------------

function modalValues(root) {
  const values = {};
  root.querySelectorAll(".in").forEach((input) => {
    const block = (values[input.dataset.blockId] ||= {});
    block[input.dataset.actionId] = input.classList.contains("multi")
      ? [...input.querySelectorAll("input:checked")].map((c) => c.value)
      : input.value;
  });
  return values;
}

function restoreValues(root, values) {
  root.querySelectorAll(".in").forEach((input) => {
    const value = values[input.dataset.blockId]?.[input.dataset.actionId];
    if (value === undefined) return;
    if (input.classList.contains("multi")) {
      input.querySelectorAll("input").forEach((c) => { c.checked = value.includes(c.value); });
    } else input.value = value;
  });
}

function renderModal(modal) {
  const root = $("modal-root");
  if (!modal) { root.replaceChildren(); page.modalKey = null; return; }
  const key = `${modal.id}|${modal.html}|${modal.error || ""}`;
  if (key === page.modalKey) return; // keep what the person typed
  const typed = page.modalKey && page.modalKey.startsWith(`${modal.id}|`) ? modalValues(root) : null;
  page.modalKey = key;
  const body = el("div", { class: "body" });
  body.innerHTML = modal.html;
  if (typed) restoreValues(body, typed);
  if (modal.error) body.prepend(el("div", { class: "form-error" }, modal.error));
  const close = el("button", { type: "button", onclick: () => post("/demo/view/close", { user: page.user, view_id: modal.id }).then(refresh) }, modal.close);
  const buttons = [close];
  if (modal.submit) buttons.push(el("button", { type: "submit", class: "submit" }, modal.submit));
  const form = el("form", {
    class: "dialog",
    role: "dialog",
    "aria-label": modal.title || "",
    onsubmit: async (e) => {
      e.preventDefault();
      form.querySelector(".submit")?.setAttribute("disabled", "");
      await post("/demo/view", { user: page.user, view_id: modal.id, values: modalValues(body) });
      form.querySelector(".submit")?.removeAttribute("disabled");
      refresh();
    },
  }, el("header", {}, modal.title || ""), body, el("footer", {}, ...buttons));
  root.replaceChildren(el("div", { class: "overlay" }, form));
}

// --- composer --------------------------------------------------------------------------------

async function send(text, threadTs) {
  text = text.trim();
  if (!text) return;
  if (text.startsWith("/") && !threadTs) {
    await post("/demo/command", { user: page.user, channel: page.channel, text });
  } else {
    await post("/demo/message", { user: page.user, channel: page.channel, text, thread_ts: threadTs || null });
  }
  refresh();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const box = $("compose-text");
  const text = box.value;
  box.value = "";
  send(text);
});
$("compose-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
});
$("who").addEventListener("change", (event) => {
  page.user = event.target.value;
  localStorage.setItem("demo.user", page.user);
  page.modalKey = null;
  refresh();
});

// --- the sandbox panel -----------------------------------------------------------------------

const STATES = { Schedule: "scheduled", Created: "in progress", Ended: "ended", Cancelled: "cancelled" };

async function sandbox(path) {
  const out = await post(`/demo/sandbox/${path}`, { user: page.user });
  if (out.ok === false) toast(`Sandbox: ${out.error}`);
  refreshSandbox();
}

async function refreshSandbox() {
  const response = await fetch(`/demo/sandbox?${new URLSearchParams({ user: page.user })}`);
  if (!response.ok) return;
  const { meetings } = await response.json();
  const box = $("meetings");
  if (!meetings.length) { box.replaceChildren(el("p", { class: "empty" }, "No meetings yet.")); return; }
  box.replaceChildren(...meetings.map((m) => {
    const live = m.state === "Created";
    const booked = m.state === "Schedule";
    const controls = el("div", { class: "controls" });
    if (booked) controls.append(el("button", { type: "button", onclick: () => sandbox(`${m.id}/start`) }, "Start"));
    if (live) controls.append(el("button", { type: "button", onclick: () => sandbox(`${m.id}/end`) }, "End"));
    if (booked || live) controls.append(el("button", { type: "button", onclick: () => sandbox(`${m.id}/join`) }, "Add participant (me)"));
    const people = el("ul", { class: "participants" }, ...m.participants.map((p) => el("li", {},
      el("span", {}, `👤 ${p.name}`),
      el("button", { type: "button", onclick: () => sandbox(`${m.id}/leave/${p.participant_id}`) }, "Remove"))));
    return el("div", { class: "meeting", "data-conference": m.id },
      el("div", { class: "subject" }, m.subject || "(no subject)"),
      el("div", { class: "meta" }, el("span", { class: `state ${m.state}` }, STATES[m.state] || m.state), ` ${m.start} · ID ${m.id}`),
      m.past_sessions ? el("div", { class: "meta past" }, `${m.past_sessions} past session${m.past_sessions > 1 ? "s" : ""}`) : null,
      people, controls);
  }));
}

// --- live updates ----------------------------------------------------------------------------

const events = new EventSource("/demo/events");
events.onmessage = () => refresh();
setInterval(refreshSandbox, 3000); // the sandbox's clock moves states on its own
refresh();
