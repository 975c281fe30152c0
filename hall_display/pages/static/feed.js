/* hallwatch hall displays: the public progress feed as the pages see it (common/public_feed.py).
 * Written here, no third-party code. Loads /display-config.json and the hall's snapshot, then follows
 * the hall's event stream: an event whose id is not above the last applied one is ignored (the stream
 * may resend it after a reconnect), `snapshot` replaces everything, the display agent's `status`
 * says whether central is reachable and how old the data is. The state is on window.hallwatchDisplay
 * for tests and for whoever looks at the page with devtools. */

const SHANGHAI = "Asia/Shanghai";
const FEED_EVENTS = ["case", "case_removed", "summary", "notices", "snapshot"];
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

const hm = new Intl.DateTimeFormat("zh-CN", {
  timeZone: SHANGHAI, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

/** "HH:MM" of an ISO datetime in Asia/Shanghai, whatever the PC's own time zone. */
export function shanghaiHM(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? "" : hm.format(when);
}

/** "MM-DD" of an ISO date ("2026-03-15"), as the date is written: no time zone involved. */
export function monthDay(isoDate) {
  return typeof isoDate === "string" && isoDate.length >= 10 ? isoDate.slice(5, 10) : "";
}

export const LIGHT_TEXT = { green: "绿灯", yellow: "黄灯", red: "红灯" };

// The shapes the pages rely on. Central sends valid models; a screen still must not die of a bad one.
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isCase = (c) => isObject(c) && typeof c.case_no === "string" && c.case_no !== "";
const isNotice = (n) => isObject(n) && typeof n.text === "string";
const SHAPES = {
  case: isCase,
  case_removed: (d) => isObject(d) && typeof d.case_no === "string",
  summary: isObject,
  notices: (d) => isObject(d) && Array.isArray(d.notices) && d.notices.every(isNotice),
  snapshot: (d) => isObject(d) && Number.isInteger(d.last_event_id) && Array.isArray(d.cases)
    && d.cases.every(isCase) && Array.isArray(d.notices) && d.notices.every(isNotice),
  status: (d) => isObject(d) && typeof d.central === "string",
};

/** The parsed data of an event, or null (and a warning) when it is not what `name` needs. */
function parse(name, text) {
  try {
    const data = JSON.parse(text);
    if (SHAPES[name](data)) { return data; }
  } catch (error) {
    console.warn(`bad ${name} event`, error);
    return null;
  }
  console.warn(`bad ${name} event: unexpected shape`);
  return null;
}

/** Red first, then yellow, then the rest, closed cases last; within each, the earliest due date first. */
export function byUrgency(a, b) {
  const rank = (c) => (c.closed_on ? 3 : c.light === "red" ? 0 : c.light === "yellow" ? 1 : 2);
  return rank(a) - rank(b)
    || String(a.due_date || "9999").localeCompare(String(b.due_date || "9999"))
    || a.case_no.localeCompare(b.case_no);
}

export async function loadConfig() {
  const response = await fetch("/display-config.json", { cache: "no-store" });
  if (!response.ok) { throw new Error(`display-config.json: HTTP ${response.status}`); }
  return response.json();
}

export function hallPath(config, tail) {
  return `/api/v1/public/halls/${encodeURIComponent(config.hall)}/${tail}`;
}

/** The feed of one hall. `listener(state, change)` is called after every applied change, where change
 * is {type: "snapshot"|"case"|"case_removed"|"summary"|"notices"|"status"|"link", case?, previous?}. */
export class HallFeed {
  constructor(config, listener) {
    this.config = config;
    this.listener = listener;
    this.source = null;
    this.retryMs = RETRY_MIN_MS;
    this.state = {
      hall: { code: config.hall, name: config.hall_name || "" },
      lastEventId: 0,
      cases: Object.create(null),  // case_no → PublicCase
      summary: null,
      notices: [],
      status: null,  // the agent's AgentStatus; null when talking to central directly
      linkDown: false,  // this page's own stream to its server failed and is not back yet
      receivedAt: null,  // when this page last got data (used when no agent status says better)
      applied: 0,  // events applied so far (tests wait on it)
    };
    window.hallwatchDisplay = this.state;
  }

  async start() {
    try {
      const response = await fetch(hallPath(this.config, "progress"), { cache: "no-store" });
      const snapshot = response.ok ? parse("snapshot", await response.text()) : null;
      if (snapshot) { this.applySnapshot(snapshot); }
    } catch (error) {
      console.warn("snapshot not loaded; the stream sends one", error);
    }
    this.open();
  }

  open() {
    // A fresh EventSource sends no Last-Event-ID: the server starts it with a snapshot.
    const source = new EventSource(hallPath(this.config, "events"));
    this.source = source;
    source.onopen = () => {
      this.retryMs = RETRY_MIN_MS;
      this.setLinkDown(false);
    };
    source.onerror = () => {
      this.setLinkDown(true);
      // The browser reconnects by itself (resending Last-Event-ID) unless the server refused the
      // stream outright; then only a new EventSource helps, with backoff.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(() => this.open(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      }
    };
    for (const name of FEED_EVENTS) {
      source.addEventListener(name, (message) => this.onMessage(name, message));
    }
    source.addEventListener("status", (message) => this.onStatus(message));
  }

  setLinkDown(down) {
    if (this.state.linkDown === down) { return; }
    this.state.linkDown = down;
    this.listener(this.state, { type: "link" });
  }

  onMessage(name, message) {
    const data = parse(name, message.data);
    if (data === null) { return; }
    if (name === "snapshot") {
      this.applySnapshot(data);
      return;
    }
    const id = Number(message.lastEventId);
    if (message.lastEventId !== "" && Number.isFinite(id)) {
      if (id <= this.state.lastEventId) { return; }  // already applied (resent after a reconnect)
      this.state.lastEventId = id;
    }
    this.apply(name, data);
  }

  apply(name, data) {
    const state = this.state;
    const change = { type: name };
    if (name === "case") {
      change.previous = state.cases[data.case_no] || null;
      change.case = data;
      state.cases[data.case_no] = data;
    } else if (name === "case_removed") {
      change.previous = state.cases[data.case_no] || null;
      change.case = { case_no: data.case_no };
      delete state.cases[data.case_no];
    } else if (name === "summary") {
      state.summary = data;
    } else if (name === "notices") {
      state.notices = data.notices;
    } else {
      return;
    }
    state.receivedAt = new Date().toISOString();
    state.applied += 1;
    this.listener(state, change);
  }

  applySnapshot(snapshot) {
    const state = this.state;
    if (isObject(snapshot.hall)) { state.hall = snapshot.hall; }
    state.lastEventId = snapshot.last_event_id;
    state.cases = Object.create(null);
    for (const item of snapshot.cases) { state.cases[item.case_no] = item; }
    state.summary = isObject(snapshot.summary) ? snapshot.summary : null;
    state.notices = snapshot.notices;
    state.receivedAt = snapshot.generated_at;
    state.applied += 1;
    this.listener(state, { type: "snapshot" });
  }

  onStatus(message) {
    const status = parse("status", message.data);
    if (status === null) { return; }
    this.state.status = status;
    this.listener(this.state, { type: "status" });
  }
}

/** The cases, most urgent first (with `openOnly`, without those closed today). */
export function casesByUrgency(state, openOnly = false) {
  const cases = Object.values(state.cases);
  return (openOnly ? cases.filter((c) => !c.closed_on) : cases).sort(byUrgency);
}

/** What the data-age marker says: {stale, label, updated}. Stale when central (per the agent) or this
 * page's own stream is down: the data is as of when it last came from central. Otherwise it is live,
 * as of now (the feed sends every change; a quiet hour is not old data). */
export function freshness(state, now = new Date()) {
  const central = state.status ? state.status.central : "connected";
  const stale = central !== "connected" || state.linkDown;
  const updatedAt = stale ? (state.status && state.status.updated_at) || state.receivedAt : now;
  const updated = updatedAt ? `数据更新于 ${shanghaiHM(updatedAt)}` : "";
  if (central !== "connected") { return { stale, label: "中心连接中断", updated }; }
  if (state.linkDown) { return { stale, label: "连接中断，正在重连", updated }; }
  return { stale, label: "", updated };
}

/** Shows freshness(state) in the page's marker elements (#conn, #updated) when they exist. */
export function showFreshness(state) {
  const fresh = freshness(state);
  const conn = document.getElementById("conn");
  if (conn) {
    conn.textContent = fresh.label;
    conn.hidden = !fresh.stale;
  }
  const updated = document.getElementById("updated");
  if (updated) { updated.textContent = fresh.updated; }
  document.body.dataset.central = fresh.stale ? "down" : "up";
  return fresh;
}

/** A new element with a class and text (never innerHTML: the data is shown as text, nothing else). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}
