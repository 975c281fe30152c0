/* hallwatch LED marquee: one line scrolling right to left across exactly led.width × led.height CSS
 * px at the top left (the region the LED controller mirrors). Written here, no third-party code.
 *
 * The ribbon is a queue: entries are appended at its right end when its tail has entered the screen
 * and dropped from its left end once they have scrolled out (the position moves by the dropped width,
 * so nothing on screen jumps). Each round takes the entries in order: the connection warning, red
 * cases, yellow cases, the other open cases (earliest due first), then the notices. A case that is new
 * or turns yellow or red goes straight into the ribbon, right after what is entering the screen now. */

import {
  HallFeed, LIGHT_TEXT, casesByUrgency, el, freshness, loadConfig, monthDay, showFreshness,
} from "./feed.js";

const WARN = new Set(["yellow", "red"]);
const MAX_STEP_S = 0.1;  // after a stall (tab hidden, slow frame) move on at most this much
const MAX_APPEND = 50;  // entries appended in one frame at most

function positive(value) {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? number : null;
}

/** The LED geometry: ?w=&h=&speed=&font= override display-config.json's `led`. */
export function geometry(config, search) {
  const params = new URLSearchParams(search);
  const led = config.led || {};
  const width = Math.round(positive(params.get("w")) || led.width || 384);
  const height = Math.round(positive(params.get("h")) || led.height || 64);
  const speed = positive(params.get("speed")) || led.speed_px_per_second || 60;
  // The configured font fits the configured height; a height given in the address gets its own.
  const fitted = Math.max(10, Math.floor(height * 0.75));
  const configured = params.get("h") ? null : positive(led.font_px);
  const font = Math.min(height, Math.round(positive(params.get("font")) || configured || fitted));
  return { width, height, speed, font };
}

function caseText(c) {
  const due = c.due_date ? `承诺办结日 ${monthDay(c.due_date)}` : "";
  return [c.case_no, c.item, c.stage, due].filter(Boolean).join(" · ");
}

class Marquee {
  constructor(geo) {
    this.geo = geo;
    this.stage = document.getElementById("stage");
    this.ribbon = document.getElementById("ribbon");
    this.list = document.getElementById("entries");
    // The ribbon's left edge, in px from the stage's left edge: it starts filled, not black.
    this.x = 0;
    this.pending = [];  // keys still to come in this round
    this.state = null;
    this.stale = false;  // whether the connection warning is in the round
    this.stage.style.width = `${geo.width}px`;
    this.stage.style.height = `${geo.height}px`;
    this.ribbon.style.fontSize = `${geo.font}px`;
    this.ribbon.style.lineHeight = `${geo.height}px`;
  }

  /** This round's keys: "s" (connection warning), "c:<case_no>", "n:<notice id>"; "w" when empty. */
  round() {
    const keys = [];
    if (freshness(this.state).stale) { keys.push("s"); }
    for (const c of casesByUrgency(this.state, true)) { keys.push(`c:${c.case_no}`); }
    for (const n of this.state.notices) { keys.push(`n:${n.id}`); }
    return keys.length ? keys : ["w"];
  }

  /** The ribbon entry for a key, or null when it is no longer current. */
  entry(key) {
    const state = this.state;
    if (key === "s") {
      const fresh = freshness(state);
      if (!fresh.stale) { return null; }
      const node = el("span", "entry status", [fresh.label, fresh.updated].filter(Boolean).join(" · "));
      node.dataset.key = key;
      return node;
    }
    if (key === "w") {
      const node = el("span", "entry welcome", `${state.hall.name || "政务服务大厅"} 欢迎您`);
      node.dataset.key = key;
      return node;
    }
    if (key.startsWith("c:")) {
      const c = state.cases[key.slice(2)];
      if (!c || c.closed_on) { return null; }
      const node = el("span", `entry case ${c.light || "none"}`);
      if (WARN.has(c.light)) { node.append(el("span", "mark", `⚠${LIGHT_TEXT[c.light]}`)); }
      node.append(caseText(c));
      node.dataset.key = key;
      node.dataset.caseNo = c.case_no;
      node.dataset.light = c.light || "";
      return node;
    }
    const notice = state.notices.find((n) => `n:${n.id}` === key);
    if (!notice) { return null; }
    const node = el("span", "entry notice");
    node.append(el("span", "tag", "【公告】"), notice.text.replace(/\s+/g, " "));
    node.dataset.key = key;
    node.dataset.noticeId = String(notice.id);
    return node;
  }

  nextEntry() {
    for (let tries = 0; tries < 2; tries += 1) {
      while (this.pending.length) {
        const node = this.entry(this.pending.shift());
        if (node) { return node; }
      }
      this.pending = this.round();
    }
    return this.entry("w");
  }

  /** Entries whose left edge is still right of the screen: they can change without anything moving. */
  unseen() {
    return [...this.ribbon.children].filter((node) => this.x + node.offsetLeft >= this.geo.width);
  }

  /** Puts `key` into the ribbon right after what is on screen now (or refreshes it there). */
  hurry(key) {
    this.pending = this.pending.filter((k) => k !== key);
    for (const node of this.unseen()) { if (node.dataset.key === key) { node.remove(); } }
    const node = this.entry(key);
    if (node) { this.ribbon.insertBefore(node, this.unseen()[0] || null); }
  }

  /** Replaces or drops the not yet visible entries of `key` to match the data. */
  refresh(key) {
    for (const node of this.unseen()) {
      if (node.dataset.key !== key) { continue; }
      const fresh = this.entry(key);
      if (fresh) { node.replaceWith(fresh); } else { node.remove(); }
    }
  }

  update(state, change) {
    this.state = state;
    const wasStale = this.stale;
    this.stale = showFreshness(state).stale;
    if (change.type === "case") {
      const c = change.case;
      const key = `c:${c.case_no}`;
      const turned = WARN.has(c.light) && (!change.previous || change.previous.light !== c.light);
      if (!c.closed_on && (!change.previous || turned)) { this.hurry(key); } else { this.refresh(key); }
    } else if (change.type === "case_removed") {
      this.refresh(`c:${change.case.case_no}`);
    } else if (change.type === "snapshot" || change.type === "notices") {
      for (const node of this.unseen()) { node.remove(); }
      this.pending = [];
    } else if (this.stale && !wasStale) {
      this.hurry("s");
    } else {
      this.refresh("s");  // gone, or its time changed
    }
    this.renderList();
  }

  /** The hidden list of everything this round shows (what a test or a screen reader reads). */
  renderList() {
    const items = this.round().map((key) => {
      const node = this.entry(key);
      const item = el("li", "", node ? node.textContent : "");
      for (const [name, value] of Object.entries(node ? node.dataset : {})) { item.dataset[name] = value; }
      return item;
    });
    this.list.replaceChildren(...items);
  }

  frame(seconds) {
    if (!this.state) { return; }
    this.x -= this.geo.speed * seconds;
    let first = this.ribbon.firstElementChild;
    while (first && first.offsetWidth > 0 && this.x + first.offsetWidth <= 0) {
      this.x += first.offsetWidth;
      first.remove();
      first = this.ribbon.firstElementChild;
    }
    // Bounded: a ribbon not laid out (zero widths) must not append forever.
    for (let n = 0; n < MAX_APPEND && this.x + this.ribbon.offsetWidth < this.geo.width; n += 1) {
      this.ribbon.append(this.nextEntry());
    }
    // Whole pixels: an LED shows each CSS px as one lamp, a fractional offset would smear it.
    this.ribbon.style.transform = `translate3d(${Math.round(this.x)}px, 0, 0)`;
  }

  run() {
    let before = null;
    const tick = (now) => {
      const seconds = before === null ? 0 : Math.min((now - before) / 1000, MAX_STEP_S);
      before = now;
      this.frame(seconds);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
}

async function main() {
  const config = await loadConfig();
  const marquee = new Marquee(geometry(config, window.location.search));
  const feed = new HallFeed(config, (state, change) => marquee.update(state, change));
  marquee.run();
  await feed.start();
}

main().catch((error) => {
  console.error("marquee failed to start", error);
  setTimeout(() => window.location.reload(), 10000);  // e.g. the agent was not up yet
});
