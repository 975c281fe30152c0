/* hallwatch touchscreen kiosk: look up a case with its number and query password, browse the item
 * catalog, read the hall's rules and how to complain, and complain (kiosk_complaint.js). Written here,
 * no third-party code.
 *
 * One page, several screens; every screen but the home screen has 返回 and 首页. After
 * kiosk.idle_seconds without a touch it goes back home and forgets everything typed (the next person
 * must not find the last one's case number or password). The password is kept only in this module,
 * never in the DOM or on window.hallwatchDisplay. */

import { LIGHT_TEXT, el, hallPath, loadConfig, shanghaiHM } from "./feed.js";
import { resetCatalog, showCatalog, showInfo, showItem } from "./kiosk_guide.js";
import { COMPLAINT_PARENT, complaintKey, resetComplaint, showComplaintScreen, wireComplaint } from "./kiosk_complaint.js";
import { alnumPad, digitPad } from "./kiosk_keys.js";

const PASSWORD_DIGITS = 6;
const CASE_NO_MAX = 64;
const CASE_NO_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const REQUEST_TIMEOUT_MS = 15000;
const PARENT = {
  case: "home", password: "case", timeline: "home", catalog: "home", item: "catalog", info: "home",
  ...COMPLAINT_PARENT,
};
const $ = (id) => document.getElementById(id);

let config = null;
let password = "";
let idleTimer = null;
// What tests and devtools may read: never the password itself.
const kiosk = { screen: "home", caseNo: "", passwordDigits: 0, lookups: 0 };
window.hallwatchDisplay = kiosk;

export function go(screen) {
  for (const section of document.querySelectorAll("main > .screen")) {
    section.hidden = section.id !== `screen-${screen}`;
  }
  kiosk.screen = screen;
  $("back").hidden = screen === "home";
  $("home").hidden = screen === "home";
  document.body.dataset.screen = screen;
  window.scrollTo(0, 0);
  if (screen === "catalog") { showCatalog(config, (item) => { showItem(item); go("item"); }); }
  if (screen === "info") { showInfo(config); }
  if (screen === "password") { $("password-case").textContent = kiosk.caseNo; }
  if (screen.startsWith("complaint")) { showComplaintScreen(screen); }
}

/** Home, with everything typed or shown forgotten. */
function goHome() {
  kiosk.caseNo = "";
  setPassword("");
  showCaseNo();
  for (const id of ["case-error", "lookup-error"]) { $(id).hidden = true; }
  $("timeline").replaceChildren();
  resetCatalog();
  resetComplaint();
  go("home");
}

function keepAwake() {
  clearTimeout(idleTimer);
  const seconds = (config && config.kiosk && config.kiosk.idle_seconds) || 60;
  idleTimer = setTimeout(() => { if (kiosk.screen !== "home" || kiosk.caseNo || password) { goHome(); } },
    seconds * 1000);
}

// Case number ---------------------------------------------------------------------------------------

function showCaseNo() {
  $("case-no").textContent = kiosk.caseNo;
  $("case-next").disabled = !CASE_NO_PATTERN.test(kiosk.caseNo);
  $("case-error").hidden = true;
}

function typeCaseNo(char) {
  if (kiosk.caseNo.length >= CASE_NO_MAX || (kiosk.caseNo === "" && char === "-")) { return; }
  kiosk.caseNo += char;
  showCaseNo();
}

function buildCaseKeys() {
  alnumPad($("case-keys"), {
    type: typeCaseNo,
    backspace: () => { kiosk.caseNo = kiosk.caseNo.slice(0, -1); showCaseNo(); },
    clear: () => { kiosk.caseNo = ""; showCaseNo(); },
  });
}

// Password ------------------------------------------------------------------------------------------

function setPassword(value) {
  password = value;
  kiosk.passwordDigits = value.length;
  const dots = $("password-dots");
  dots.replaceChildren(...Array.from({ length: PASSWORD_DIGITS }, (_, i) => el("span", i < value.length ? "dot filled" : "dot")));
  dots.setAttribute("aria-label", `已输入 ${value.length} 位`);
  $("lookup").disabled = value.length !== PASSWORD_DIGITS;
}

function buildPasswordKeys() {
  digitPad($("password-keys"), {
    type: (digit) => {
      if (password.length < PASSWORD_DIGITS) { setPassword(password + digit); }
      $("lookup-error").hidden = true;
    },
    backspace: () => setPassword(password.slice(0, -1)),
    clear: () => setPassword(""),
  });
}

// Lookup --------------------------------------------------------------------------------------------

/** Minutes to wait from a Retry-After header (seconds or an HTTP date); null when absent. */
function retryMinutes(header) {
  if (!header) { return null; }
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds / 60)) : null;
}

async function failureText(response) {
  if (response.status === 404 || response.status === 422) { return "办件编号或查询密码不正确"; }
  if (response.status === 429) {
    const minutes = retryMinutes(response.headers.get("Retry-After"));
    return minutes ? `尝试次数过多，请 ${minutes} 分钟后再试` : "尝试次数过多，请稍后再试";
  }
  if (response.status === 503) {
    try {
      const body = await response.json();
      if (body && typeof body.detail === "string" && body.detail) { return body.detail; }
    } catch (error) {
      console.warn("503 without a JSON detail", error);
    }
  }
  return "暂时无法查询，请稍后再试";
}

async function lookup() {
  const button = $("lookup");
  const body = JSON.stringify({ case_no: kiosk.caseNo, password });
  setPassword("");  // typed once: whatever the answer, the next try starts empty
  button.disabled = true;
  button.textContent = "正在查询…";
  kiosk.lookups += 1;
  let message = null;
  try {
    const response = await fetch("/api/v1/public/cases/lookup", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.ok) {
      showTimeline(await response.json());
    } else {
      message = await failureText(response);
    }
  } catch (error) {
    console.warn("lookup failed", error);
    message = "暂时无法查询，请稍后再试";
  } finally {
    button.textContent = "查询";
  }
  if (kiosk.screen !== "password") { return; }  // went home (idle) meanwhile
  if (message === null) {
    go("timeline");
  } else {
    $("lookup-error").textContent = message;
    $("lookup-error").hidden = false;
  }
}

// Timeline ------------------------------------------------------------------------------------------

const dateTime = (iso) => `${iso.slice(0, 10)} ${shanghaiHM(iso)}`;
const withDays = (date, days) => (date ? `${date}（${days} 个工作日）` : "—");

function facts(rows) {
  const list = el("dl", "facts");
  for (const [term, value, className] of rows) {
    if (value === null || value === undefined || value === "") { continue; }
    const dd = el("dd", className || "", value);
    list.append(el("dt", "", term), dd);
  }
  return list;
}

function showTimeline(answer) {
  const c = answer.case;
  const light = c.light ? LIGHT_TEXT[c.light] : null;
  const rows = [
    ["办件编号", c.case_no], ["事项", c.item], ["部门", c.department], ["申请人", c.applicant],
    ["当前环节", c.stage], ["状态", light, c.light ? `light ${c.light}` : ""],
    ["受理日期", c.accepted_on],
    ["承诺办结日", withDays(c.due_date, answer.promised_limit_days)],
    ["法定办结日", withDays(answer.legal_due_date, answer.legal_limit_days)],
    ["延长", answer.extension_days > 0 ? `${answer.extension_days} 个工作日` : null],
    ["办结日期", c.closed_on],
  ];
  const steps = el("ol", "steps");
  for (const step of answer.steps) {
    const item = el("li", "step");
    const where = [step.window, step.staff].filter(Boolean).join(" · ");
    item.append(el("time", "when", dateTime(step.at)), el("strong", "what", step.label));
    if (where) { item.append(el("span", "where", where)); }
    if (step.days) { item.append(el("span", "days", `延长 ${step.days} 个工作日`)); }
    steps.append(item);
  }
  $("timeline").replaceChildren(facts(rows), el("h3", "", "办理过程"), steps);
}

// Start ---------------------------------------------------------------------------------------------

function wire() {
  for (const button of document.querySelectorAll("[data-go]")) {
    button.addEventListener("click", () => (button.dataset.go === "home" ? goHome() : go(button.dataset.go)));
  }
  $("back").addEventListener("click", () => {
    const parent = PARENT[kiosk.screen] || "home";
    if (parent === "home") { goHome(); } else { go(parent); }
  });
  $("home").addEventListener("click", goHome);
  $("case-next").addEventListener("click", () => { setPassword(""); $("lookup-error").hidden = true; go("password"); });
  $("lookup").addEventListener("click", lookup);
  for (const type of ["pointerdown", "keydown", "input", "wheel", "scroll"]) {
    window.addEventListener(type, keepAwake, { capture: true, passive: true });
  }
  // A hardware keyboard, where there is one: the same keys as the on-screen pads.
  window.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) { return; }
    const char = event.key.length === 1 ? event.key.toUpperCase() : event.key;
    if (kiosk.screen === "case" && /^[A-Z0-9-]$/.test(char)) { typeCaseNo(char); }
    if (kiosk.screen === "case" && char === "Backspace") { kiosk.caseNo = kiosk.caseNo.slice(0, -1); showCaseNo(); }
    if (kiosk.screen === "password" && /^[0-9]$/.test(char) && password.length < PASSWORD_DIGITS) {
      setPassword(password + char);
    }
    if (kiosk.screen === "password" && char === "Backspace") { setPassword(password.slice(0, -1)); }
    complaintKey(kiosk.screen, char);
  });
}

const HALL_NAME_RETRY_MS = 3000;

/** Where the agent has not heard the hall's name from central yet, the hall info may have it; until
 * either has it, ask again (an agent started just now hears it on its first sync). */
async function showHallNameFromInfo() {
  let info = null;
  try {
    const response = await fetch(hallPath(config, "info"), { cache: "no-store" });
    info = response.ok ? await response.json() : null;
  } catch (error) {
    console.warn("hall name not known yet", error);
  }
  if (info && info.hall && typeof info.hall.name === "string") {
    $("hall-name").textContent = info.hall.name;
  } else {
    setTimeout(showHallNameFromInfo, HALL_NAME_RETRY_MS);
  }
}

async function main() {
  buildCaseKeys();
  buildPasswordKeys();
  wire();
  wireComplaint({ goTo: go, config: () => config });
  goHome();
  config = await loadConfig();
  keepAwake();
  $("go-complaint").hidden = !(config.kiosk && config.kiosk.complaints === true);
  if (config.hall_name) {
    $("hall-name").textContent = config.hall_name;
  } else {
    showHallNameFromInfo();
  }
}

main().catch((error) => {
  console.error("kiosk failed to start", error);
  setTimeout(() => window.location.reload(), 10000);
});
