/* hallwatch TV board: the hall's current cases with their lights, paged; today's counts and
 * satisfaction; a clock; the notices in a footer ticker; the data's age when central is away.
 * Written here, no third-party code. The page is laid out at 1920 × 1080 and scaled to the screen.
 * Address parameters: ?page_seconds= (default 10) and ?rows= (default: as many as fit). */

import {
  HallFeed, LIGHT_TEXT, casesByUrgency, el, loadConfig, monthDay, showFreshness,
} from "./feed.js";

const DESIGN = { width: 1920, height: 1080 };
const TICKER_PX_PER_SECOND = 90;
const ROW_PX = 60;  // a case row's height in board.css
const SHANGHAI = "Asia/Shanghai";
const dayFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: SHANGHAI, year: "numeric", month: "long", day: "numeric", weekday: "long",
});
const timeFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: SHANGHAI, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

const params = new URLSearchParams(window.location.search);
const pageSeconds = Math.max(1, Number(params.get("page_seconds")) || 10);
const fixedRows = Math.floor(Number(params.get("rows"))) || 0;
const $ = (id) => document.getElementById(id);

function fitScreen() {
  const scale = Math.min(window.innerWidth / DESIGN.width, window.innerHeight / DESIGN.height);
  const left = (window.innerWidth - DESIGN.width * scale) / 2;
  const top = (window.innerHeight - DESIGN.height * scale) / 2;
  $("screen").style.transform = `translate(${left}px, ${top}px) scale(${scale})`;
}

let feed = null;

function tick() {
  const now = new Date();
  $("date").textContent = dayFormat.format(now);
  $("clock").textContent = timeFormat.format(now);
  if (feed) { showFreshness(feed.state); }  // live data is as of now
  setTimeout(tick, 1000 - (now.getTime() % 1000) + 5);  // just after the next whole second
}

function showSummary(summary) {
  if (!summary) { return; }
  for (const name of ["received", "completed", "overdue", "open"]) {
    $(`stat-${name}`).textContent = String(summary[name]);
  }
  const value = $("stat-satisfaction");
  if (!summary.ratings || summary.satisfaction === null || summary.satisfaction === undefined) {
    value.textContent = "暂无评价";
    value.classList.add("none");
    $("stat-ratings").textContent = "";
  } else {
    value.textContent = `${Number((summary.satisfaction * 100).toFixed(1))}%`;
    value.classList.remove("none");
    $("stat-ratings").textContent = `${summary.ratings} 条评价`;
  }
}

function lightCell(c) {
  const cell = el("td", "col-light");
  if (c.light) {
    const light = el("span", `light ${c.light}`);
    light.append(el("span", "dot"), el("span", "", LIGHT_TEXT[c.light]));
    cell.append(light);
  } else {
    cell.textContent = "—";
  }
  return cell;
}

function caseRow(c) {
  const row = el("tr", c.light || "none");
  row.dataset.caseNo = c.case_no;
  row.dataset.light = c.light || "";
  const cells = [
    ["col-no", c.case_no], ["col-item", c.item], ["col-dept", c.department],
    ["col-window", c.window || "—"], ["col-applicant", c.applicant || "—"], ["col-stage", c.stage],
    ["col-date", monthDay(c.accepted_on) || "—"], ["col-date due", monthDay(c.due_date) || "—"],
  ];
  row.append(lightCell(c), ...cells.map(([cls, text]) => el("td", cls, text)));
  return row;
}

class Pages {
  constructor() {
    this.page = 0;
    this.cases = [];
    setInterval(() => this.turn(), pageSeconds * 1000);
  }

  /** Rows per page: what fits between the header row and the pager at ROW_PX a row. */
  size() {
    if (fixedRows > 0) { return fixedRows; }
    const area = $("cases-area");
    const free = area.clientHeight - $("cases").tHead.offsetHeight - $("pager").offsetHeight;
    return Math.max(1, Math.floor(free / ROW_PX));
  }

  count() { return Math.max(1, Math.ceil(this.cases.length / this.size())); }

  show(cases) {
    this.cases = cases;
    this.render();
  }

  turn() {
    this.page = (this.page + 1) % this.count();
    this.render();
  }

  render() {
    const size = this.size();
    const pages = this.count();
    this.page = Math.min(this.page, pages - 1);
    const rows = this.cases.slice(this.page * size, (this.page + 1) * size).map(caseRow);
    if (!rows.length) {
      const cell = el("td", "empty", "暂无在办件");
      cell.colSpan = 9;
      rows.push(el("tr"));
      rows[0].append(cell);
    }
    $("case-rows").replaceChildren(...rows);
    $("pager").textContent = `第 ${this.page + 1}/${pages} 页 · 共 ${this.cases.length} 件`;
    document.body.dataset.page = String(this.page + 1);
  }
}

class Ticker {
  constructor() {
    this.ribbon = $("ticker-ribbon");
    this.x = 0;
    this.texts = "";
    let before = null;
    const frame = (now) => {
      const seconds = before === null ? 0 : Math.min((now - before) / 1000, 0.1);
      before = now;
      this.step(seconds);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  show(notices) {
    const texts = notices.map((n) => n.text.replace(/\s+/g, " "));
    if (texts.join("\n") === this.texts) { return; }
    this.texts = texts.join("\n");
    // Twice over, so the second copy follows the first without a gap while it wraps around.
    const spans = [...texts, ...texts].map((text) => el("span", "", text));
    this.ribbon.replaceChildren(...spans);
    this.x = 0;
    $("ticker").hidden = texts.length === 0;
  }

  step(seconds) {
    const half = this.ribbon.offsetWidth / 2;
    if (!half) { return; }
    this.x -= TICKER_PX_PER_SECOND * seconds;
    if (this.x <= -half) { this.x += half; }
    this.ribbon.style.transform = `translate3d(${Math.round(this.x)}px, 0, 0)`;
  }
}

async function main() {
  fitScreen();
  window.addEventListener("resize", fitScreen);
  tick();
  const config = await loadConfig();
  if (config.hall_name) { $("hall-name").textContent = config.hall_name; }
  const pages = new Pages();
  const ticker = new Ticker();
  feed = new HallFeed(config, (state, change) => {
    showFreshness(state);
    if (state.hall && state.hall.name) { $("hall-name").textContent = state.hall.name; }
    if (change.type === "status" || change.type === "link") { return; }
    showSummary(state.summary);
    ticker.show(state.notices);
    pages.show(casesByUrgency(state));
  });
  await feed.start();
}

main().catch((error) => {
  console.error("board failed to start", error);
  setTimeout(() => window.location.reload(), 10000);
});
