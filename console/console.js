// Corral's web console: a read-only view of the AdminServer's commands (/commands/<name>),
// polled every POLL_MS. No framework and no build step: this file is served as is.
// Every value from the server is put into the page as text (textContent), never as HTML.

const POLL_MS = 2000;
const SAMPLES_MAX = 60;
const VIEWS = ["tree", "locks", "queues", "elections", "ensemble", "charts"];

/** What each view polls besides `monitor` (always polled, for the charts). */
const VIEW_COMMANDS = {
  tree: [],
  locks: ["locks"],
  queues: ["queues"],
  elections: ["elections"],
  ensemble: ["srvr", "conf", "leader", "voting_view", "learners", "cons"],
  charts: [],
};

const CHARTS = [
  { key: "requests", title: "requests/s" },
  { key: "latency", title: "avg latency (ms)" },
  { key: "fsync", title: "avg fsync (ms)" },
  { key: "sessions", title: "sessions" },
  { key: "watches", title: "watches" },
];

const samples = Object.fromEntries(CHARTS.map((c) => [c.key, []]));
let lastPackets;
let credentials = sessionStorage.getItem("corral.super") ?? undefined;
let dataMode = "text";
let timer;

// ---- helpers ------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function table(headers, rows, emptyText) {
  if (rows.length === 0) return el("p", { class: "empty" }, emptyText);
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))), el("tbody", {}, rows));
}

async function command(name, params) {
  const q = params === undefined ? "" : "?" + new URLSearchParams(params).toString();
  const headers = credentials === undefined ? {} : { Authorization: "Basic " + btoa(credentials) };
  const res = await fetch(`/commands/${name}${q}`, { headers, cache: "no-store" });
  const text = await res.text();
  const json = JSON.parse(text);
  // 64-bit zxids come as JSON numbers; keep the exact value from the text.
  const zxid = /"last_processed_zxid"\s*:\s*(\d+)/.exec(text);
  if (zxid !== null) json.last_processed_zxid = BigInt(zxid[1]);
  return json;
}

function currentView() {
  const h = location.hash.replace(/^#/, "");
  const name = h.split("=")[0];
  return VIEWS.includes(name) ? name : "tree";
}

function treePath() {
  const m = /^#tree=(.*)$/.exec(location.hash);
  return m === null ? "/" : decodeURIComponent(m[1]) || "/";
}

function joinPath(dir, name) {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function setStatus(text, bad = false) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = bad ? "status error" : "status";
}

// ---- views --------------------------------------------------------------------------

function contenderRow(role, c, i) {
  return el("tr", {}, el("td", {}, role), el("td", { class: "num" }, i), el("td", { class: "mono" }, c.node), el("td", {}, c.mode ?? ""),
    el("td", { class: "mono" }, c.session_id), el("td", { class: "num token" }, c.token));
}

function renderLocks(data) {
  const locks = data.locks.locks;
  if (locks.length === 0) return [el("p", { class: "empty" }, "No locks or semaphores held or awaited.")];
  return locks.map((l) =>
    el("section", { class: "card lock", "data-path": l.path },
      el("h2", {}, l.path, " ", el("small", {}, l.kind, l.permits === undefined ? "" : ` · ${l.permits} permits`)),
      `${l.holders.length} holding, ${l.waiters.length} waiting`,
      table(["role", "#", "node", "mode", "session", "fencing token"], [
        ...l.holders.map((c, i) => contenderRow("holder", c, i + 1)),
        ...l.waiters.map((c, i) => contenderRow("waiter", c, i + 1)),
      ], "nobody"),
    ),
  );
}

function isoTime(ms) {
  return new Date(Number(ms)).toISOString();
}

function inFlightCard(q, shownMax) {
  const items = q.in_flight_items ?? [];
  const shown = items.length < q.in_flight ? `first ${items.length} of ${q.in_flight} (the server lists at most ${shownMax})` : `${q.in_flight}`;
  return el("section", { class: "card inflight", "data-inflight": q.path },
    el("h2", {}, q.path, " ", el("small", {}, `in flight: ${shown}`)),
    table(["item", "seq", "earlier deliveries", "session", "taken at", "lease deadline"], items.map((i) =>
      el("tr", { class: "inflight-item" }, el("td", { class: "mono" }, i.item), el("td", { class: "num" }, i.sequence ?? ""),
        el("td", { class: "num" }, i.deliveries), el("td", { class: "mono" }, i.session_id), el("td", { class: "mono" }, isoTime(i.taken_at)),
        el("td", { class: "mono" }, i.lease_deadline === null ? "until its session ends" : isoTime(i.lease_deadline))),
    ), "none"),
  );
}

function renderQueues(data) {
  const queues = data.queues.queues;
  const out = [table(["queue", "depth", "in flight", "waiting consumers"], queues.map((q) =>
    el("tr", { class: "queue", "data-path": q.path }, el("td", { class: "mono" }, q.path), el("td", { class: "num depth" }, q.depth),
      el("td", { class: "num inflight" }, q.in_flight), el("td", { class: "num" }, q.waiters)),
  ), "No queues.")];
  const taken = queues.filter((q) => q.in_flight > 0);
  if (taken.length > 0) out.push(el("h2", {}, "Items in flight"), ...taken.map((q) => inFlightCard(q, data.queues.in_flight_shown_max)));
  return out;
}

function renderElections(data) {
  const elections = data.elections.elections;
  if (elections.length === 0) return [el("p", { class: "empty" }, "No elections.")];
  return elections.map((e) =>
    el("section", { class: "card election", "data-path": e.path },
      el("h2", {}, e.path),
      el("p", {}, "leader: ", el("code", { class: "leader" }, e.leader === null ? "none" : e.leader.node),
        e.leader === null ? "" : ` (session ${e.leader.session_id})`),
      table(["#", "member", "session", "token"], e.members.map((m, i) =>
        el("tr", {}, el("td", { class: "num" }, i + 1), el("td", { class: "mono" }, m.node), el("td", { class: "mono" }, m.session_id), el("td", { class: "num" }, m.token)),
      ), "no members"),
    ),
  );
}

function hex(big) {
  return "0x" + big.toString(16);
}

function renderEnsemble(data) {
  const srvr = data.srvr;
  const stats = srvr.server_stats ?? {};
  const self = srvr.last_processed_zxid ?? 0n;
  const out = [el("h2", {}, "This server"), table(["version", "state", "zxid", "nodes", "connections", "uptime (s)"], [
    el("tr", {}, el("td", {}, srvr.version ?? ""), el("td", { class: "state" }, stats.server_state ?? ""),
      el("td", { class: "mono zxid" }, hex(self)), el("td", { class: "num" }, srvr.node_count ?? ""),
      el("td", { class: "num" }, stats.num_alive_client_connections ?? ""), el("td", { class: "num" }, Math.floor((stats.uptime ?? 0) / 1000))),
  ], "")];
  // Voting members from voting_view, observers and learners from `learners`: the leader
  // knows every member's zxid and lag, a follower or observer only its own.
  const learners = data.learners.error === null ? data.learners : undefined;
  const progress = new Map((learners?.members ?? []).map((m) => [String(m.id), m]));
  const voting = data.voting_view.current_config ?? {};
  const ids = [...new Set([...Object.keys(voting), ...progress.keys()])].sort((a, b) => Number(a) - Number(b));
  out.push(el("h2", {}, "Members"));
  if (ids.length === 0) {
    out.push(el("p", { class: "empty" }, `Standalone: no ensemble (this server is ${stats.server_state ?? "?"}, zxid ${hex(self)}).`));
  } else {
    const leaderId = data.leader.leader_id;
    const selfId = String(data.conf.server_id ?? "");
    out.push(table(["id", "role", "quorum address", "client address", "zxid", "lag (txns)", "sync"], ids.map((id) => {
      const isSelf = id === selfId;
      const m = voting[id];
      const p = progress.get(id);
      const role = p?.role ?? (isSelf ? stats.server_state ?? "" : String(leaderId) === id ? "leader" : "follower");
      const zxid = p === undefined ? (isSelf ? hex(self) : "—") : p.zxid ?? "—";
      return el("tr", { class: "member", "data-member": id }, el("td", { class: "num" }, id, isSelf ? " (this server)" : ""), el("td", {}, role),
        el("td", { class: "mono" }, m?.server_addresses.join(", ") ?? p?.quorum_address ?? ""), el("td", { class: "mono" }, m?.client_address ?? p?.client_address ?? ""),
        el("td", { class: "mono zxid" }, zxid), el("td", { class: "num lag" }, p?.lag ?? "—"), el("td", { class: "sync" }, p?.phase ?? "—"));
    }), ""));
    if (learners === undefined) {
      out.push(el("p", { class: "empty" }, "Each member knows its own zxid: open a member's console for its zxid."));
    } else if (learners.state === "leader") {
      out.push(el("p", { class: "empty learners-note" }, `Leader's last proposal ${learners.leader_last_zxid}. zxid: the last one each learner acknowledged; lag: proposals it has not acknowledged yet (observers acknowledge none).`));
    } else {
      out.push(el("p", { class: "empty learners-note" }, `Last zxid heard from the leader: ${learners.leader_last_zxid}; ${learners.note ?? ""}.`));
    }
  }
  const cons = data.cons.connections.concat(data.cons.secure_connections ?? []);
  out.push(el("h2", {}, "Connections"), table(["client", "session", "outstanding", "received", "sent", "avg latency (ms)"], cons.map((c) =>
    el("tr", {}, el("td", { class: "mono" }, c.remote_socket_address), el("td", { class: "mono" }, c.session_id === undefined ? "" : hex(BigInt.asUintN(64, BigInt(c.session_id)))),
      el("td", { class: "num" }, c.outstanding_requests), el("td", { class: "num" }, c.packets_received), el("td", { class: "num" }, c.packets_sent),
      el("td", { class: "num" }, c.avg_latency ?? "")),
  ), "No client connections."));
  return out;
}

function sample(monitor) {
  const now = performance.now();
  const push = (key, v) => {
    const s = samples[key];
    s.push(Number(v) || 0);
    if (s.length > SAMPLES_MAX) s.shift();
  };
  const packets = Number(monitor.packets_received ?? 0);
  if (lastPackets !== undefined) push("requests", Math.max(0, ((packets - lastPackets.n) * 1000) / Math.max(1, now - lastPackets.at)));
  lastPackets = { n: packets, at: now };
  push("latency", monitor.avg_latency);
  push("fsync", monitor.avg_fsynctime);
  push("sessions", monitor.global_sessions);
  push("watches", monitor.watch_count);
}

function chart({ key, title }) {
  const s = samples[key];
  const w = 300;
  const h = 90;
  const max = Math.max(1, ...s);
  const points = s.map((v, i) => `${((i / (SAMPLES_MAX - 1)) * w).toFixed(1)},${(h - 4 - (v / max) * (h - 8)).toFixed(1)}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points);
  svg.append(line);
  const last = s.length === 0 ? "—" : Number.isInteger(s[s.length - 1]) ? s[s.length - 1] : s[s.length - 1].toFixed(1);
  return el("div", { class: "card chart", "data-chart": key }, el("span", { class: "value" }, last), el("strong", {}, title), svg,
    el("small", { class: "empty" }, `max ${max.toFixed(1)} · last ${s.length} samples`));
}

function renderCharts() {
  return [el("div", { class: "charts" }, CHARTS.map(chart))];
}

// ---- tree ---------------------------------------------------------------------------

function decodeData(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function showData(bytes) {
  if (dataMode === "hex") {
    const lines = [];
    for (let i = 0; i < bytes.length; i += 16) {
      const row = [...bytes.slice(i, i + 16)];
      lines.push(i.toString(16).padStart(8, "0") + "  " + row.map((b) => b.toString(16).padStart(2, "0")).join(" "));
    }
    return lines.join("\n");
  }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (dataMode === "json") {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      return `not JSON: ${e.message}`;
    }
  }
  return text;
}

function loginForm() {
  const user = el("input", { name: "user", placeholder: "super", autocomplete: "username", value: "super" });
  const pass = el("input", { name: "password", type: "password", placeholder: "password", autocomplete: "current-password" });
  return el("form", { class: "card login", onsubmit: (ev) => {
    ev.preventDefault();
    credentials = `${user.value}:${pass.value}`;
    sessionStorage.setItem("corral.super", credentials);
    refresh();
  } }, el("p", {}, "This server has a super user (DigestAuthenticationProvider.superDigest): the tree needs its user:password."), user, pass, el("button", { type: "submit" }, "Sign in"));
}

function renderTree(node, path) {
  const parts = path === "/" ? [] : path.slice(1).split("/");
  const crumbs = el("p", { class: "crumbs" }, el("a", { href: "#tree=/" }, "/"),
    parts.map((p, i) => [el("a", { href: "#tree=" + encodeURIComponent("/" + parts.slice(0, i + 1).join("/")) }, p), i < parts.length - 1 ? " / " : ""]));
  if (node.auth_required) {
    if (node.error === "authentication failed") sessionStorage.removeItem("corral.super");
    return [crumbs, el("p", { class: "error" }, node.error), loginForm()];
  }
  if (node.error !== null) return [crumbs, el("p", { class: "error" }, node.error)];
  const kids = el("ul", { class: "children" }, node.children.map((c) => el("li", {}, el("a", { href: "#tree=" + encodeURIComponent(joinPath(path, c)) }, c))));
  const more = node.children_omitted > 0 ? el("p", { class: "empty" }, `and ${node.children_omitted} more`) : null;
  const bytes = node.data === null ? null : decodeData(node.data);
  const modes = el("p", { class: "modes" }, ["text", "hex", "json"].map((m) =>
    el("button", { class: m === dataMode ? "active" : "", onclick: () => { dataMode = m; refresh(); } }, m)));
  const stat = table(["field", "value"], Object.entries(node.stat).map(([k, v]) =>
    el("tr", {}, el("th", {}, k), el("td", { class: "mono" }, k.endsWith("time") ? `${v} (${new Date(Number(v)).toISOString()})` : v))), "");
  const acl = table(["perms", "scheme", "id"], node.acl.map((a) =>
    el("tr", {}, el("td", { class: "mono" }, a.perms), el("td", {}, a.scheme), el("td", { class: "mono" }, a.id))), "no ACL");
  return [crumbs, el("div", { class: "tree" },
    el("section", { class: "card" }, el("h2", {}, `children (${node.stat.numChildren})`), node.children.length === 0 ? el("p", { class: "empty" }, "none") : kids, more),
    el("section", {}, el("h2", {}, "data ", el("small", {}, bytes === null ? "(null)" : `${bytes.length} bytes`)), modes,
      el("pre", { class: "data" }, bytes === null ? "" : showData(bytes)), el("h2", {}, "Stat"), stat, el("h2", {}, "ACL"), acl),
  )];
}

// ---- polling ------------------------------------------------------------------------

async function refresh() {
  clearTimeout(timer);
  const view = currentView();
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === view);
  try {
    const names = VIEW_COMMANDS[view];
    const [monitor, ...rest] = await Promise.all([command("monitor"), ...names.map((n) => command(n)), ...(view === "tree" ? [command("znode", { path: treePath() })] : [])]);
    sample(monitor);
    const data = Object.fromEntries(names.map((n, i) => [n, rest[i]]));
    let content;
    switch (view) {
      case "locks": content = renderLocks(data); break;
      case "queues": content = renderQueues(data); break;
      case "elections": content = renderElections(data); break;
      case "ensemble": content = renderEnsemble(data); break;
      case "charts": content = renderCharts(); break;
      default: content = renderTree(rest[rest.length - 1], treePath());
    }
    if (currentView() === view) document.getElementById("main").replaceChildren(...content);
    setStatus(`${monitor.server_state} · updated ${new Date().toLocaleTimeString()}`);
    // Waiting for the super user's password: polling would redraw the form being typed in.
    if (view === "tree" && rest[rest.length - 1].auth_required) return;
  } catch (e) {
    setStatus(`cannot reach the server: ${e.message}`, true);
  }
  timer = setTimeout(refresh, POLL_MS);
}

window.addEventListener("hashchange", refresh);
refresh();
