/* hallwatch kiosk: 我要投诉 — a complaint from the hall's touchscreen (issue 18), sent to central through
 * the display agent, which adds its hall and its device key (central records it as this hall's kiosk).
 * Written here, no third-party code. Three steps and a receipt:
 *   complaint          what it is about: a window or a department (from the hall's list), a member of
 *                      staff or a case (their number on the on-screen keys), or the hall as a whole;
 *   complaint-text     what happened (the system's on-screen keyboard or handwriting), named or not;
 *   complaint-confirm  a summary and the question, answered on the digit pad, then 提交投诉;
 *   complaint-receipt  the complaint number and query password, big, and where to check progress.
 * What was typed lives in this module and the form's own fields only; resetComplaint() (the kiosk
 * going home, by a touch or after kiosk.idle_seconds) empties all of it, the receipt included, and an
 * answer that arrives after that is dropped: the next person never sees the last one's complaint. */

import { el } from "./feed.js";
import { alnumPad, digitPad } from "./kiosk_keys.js";

const API = "/api/v1/public/complaints";
const REQUEST_TIMEOUT_MS = 20000;
const CONTENT_MIN = 10;
const ANSWER_MAX = 3;
const CODE_MAX = { staff: 40, case: 64 };
const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ABOUT = { window: "窗口", staff: "工作人员", department: "部门", case: "办件", hall: "服务中心整体" };
const PROMPT = {
  window: "请选择窗口（见窗口上方的编号牌）",
  department: "请选择部门",
  staff: "请输入工作人员工号（见工作人员胸牌或窗口工作牌）",
  case: "请输入办件编号（见受理回执）",
};
const UNSENT = "暂时无法提交投诉，请稍后再试";
export const COMPLAINT_PARENT = {
  complaint: "home", "complaint-text": "complaint", "complaint-confirm": "complaint-text", "complaint-receipt": "home",
};
const $ = (id) => document.getElementById(id);

let go = () => {};
let getConfig = () => null;
let form = blank();
let answer = "";
let challenge = null;  // {question, token}: one try per token (central spends it)
let choices = null;  // {windows, departments} of this hall, or {error}
let generation = 0;  // bumped by every reset: what an earlier person started is dropped when it lands
let asking = 0;  // the latest question request: an older one landing late is ignored
let sending = false;

function blank() {
  return { about: "", choice: "", code: "", anonymous: false };
}

const content = () => $("complaint-content").value.trim();
const characters = (text) => [...text].length;

/** Hooks the screens up once: `goTo(screen)` changes screen, `config()` is the display's config. */
export function wireComplaint({ goTo, config }) {
  go = goTo;
  getConfig = config;
  for (const button of $("complaint-about").querySelectorAll("[data-about]")) {
    button.addEventListener("click", () => choose(button.dataset.about));
  }
  alnumPad($("code-keys"), {
    type: typeCode,
    backspace: () => { form.code = form.code.slice(0, -1); renderAbout(); },
    clear: () => { form.code = ""; renderAbout(); },
  });
  digitPad($("answer-keys"), {
    type: typeAnswer,
    backspace: () => { answer = answer.slice(0, -1); renderConfirm(); },
    clear: () => { answer = ""; renderConfirm(); },
  });
  $("complaint-next-about").addEventListener("click", () => go("complaint-text"));
  for (const id of ["complaint-content", "complaint-name", "complaint-phone"]) {
    $(id).addEventListener("input", renderText);
  }
  for (const button of $("complaint-who").querySelectorAll("[data-anonymous]")) {
    button.addEventListener("click", () => { form.anonymous = button.dataset.anonymous === "true"; renderText(); });
  }
  $("complaint-next-text").addEventListener("click", () => go("complaint-confirm"));
  $("challenge-new").addEventListener("click", () => { hideError(); newChallenge(); });
  $("complaint-send").addEventListener("click", send);
}

/** Called whenever the kiosk shows one of the complaint screens. */
export function showComplaintScreen(screen) {
  if (screen === "complaint") {
    if (choices === null || choices.error) { loadChoices(); }
    renderAbout();
  }
  if (screen === "complaint-text") { renderText(); }
  if (screen === "complaint-confirm") {
    renderSummary();
    if (challenge === null) { newChallenge(); }
    renderConfirm();
  }
}

/** Forgets everything: the choices, the text, the name and phone, the answer, the receipt. */
export function resetComplaint() {
  generation += 1;
  asking += 1;
  form = blank();
  answer = "";
  challenge = null;
  choices = null;
  sending = false;
  for (const id of ["complaint-content", "complaint-name", "complaint-phone"]) { $(id).value = ""; }
  for (const id of ["receipt-number", "receipt-password", "receipt-decide-by", "receipt-status-url",
    "complaint-summary", "challenge-question", "target-choices"]) {
    $(id).replaceChildren();
  }
  hideError();
  renderAbout();
  renderText();
  renderConfirm();
}

/** A hardware key on a complaint screen (not in a text field): the same as the on-screen keys. */
export function complaintKey(screen, char) {
  if (screen === "complaint" && codeWanted()) {
    if (/^[A-Z0-9-]$/.test(char)) { typeCode(char); }
    if (char === "Backspace") { form.code = form.code.slice(0, -1); renderAbout(); }
  }
  if (screen === "complaint-confirm") {
    if (/^[0-9]$/.test(char)) { typeAnswer(char); }
    if (char === "Backspace") { answer = answer.slice(0, -1); renderConfirm(); }
  }
}

// Step 1: what it is about --------------------------------------------------------------------------

const codeWanted = () => form.about === "staff" || form.about === "case";
const listWanted = () => form.about === "window" || form.about === "department";

function choose(about) {
  if (about !== form.about) { form.choice = ""; form.code = ""; }
  form.about = about;
  renderAbout();
}

function typeCode(char) {
  const max = CODE_MAX[form.about] || 40;
  if (form.code.length >= max || (form.code === "" && char === "-")) { return; }
  form.code += char;
  renderAbout();
}

function aboutReady() {
  if (listWanted()) { return form.choice !== ""; }
  if (codeWanted()) { return CODE_PATTERN.test(form.code); }
  return form.about === "hall";
}

async function loadChoices() {
  const mine = generation;
  choices = { loading: true };
  renderAbout();
  try {
    const response = await fetch(`${API}/choices`, { cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!response.ok) { throw new Error(`choices: HTTP ${response.status}`); }
    const body = await response.json();
    if (mine !== generation) { return; }
    choices = { windows: body.windows || [], departments: body.departments || [] };
  } catch (error) {
    console.warn("complaint choices not loaded", error);
    if (mine !== generation) { return; }
    choices = { error: true };
  }
  renderAbout();
}

function choiceButton(item) {
  const button = el("button", "chip target-chip", item.name);
  button.type = "button";
  button.dataset.code = item.code;
  if (item.department) { button.append(el("small", "", item.department)); }
  button.setAttribute("aria-pressed", String(item.code === form.choice));
  button.addEventListener("click", () => { form.choice = item.code; renderAbout(); });
  return button;
}

function renderAbout() {
  for (const button of $("complaint-about").querySelectorAll("[data-about]")) {
    button.setAttribute("aria-pressed", String(button.dataset.about === form.about));
  }
  $("target-list").hidden = !listWanted();
  $("target-code").hidden = !codeWanted();
  if (listWanted()) {
    $("target-list-prompt").textContent = PROMPT[form.about];
    const list = choices && (form.about === "window" ? choices.windows : choices.departments);
    if (choices && choices.error) {
      $("target-choices").replaceChildren(el("p", "error", "暂时无法获取本大厅的窗口和部门，请稍后再试"));
    } else if (!list) {
      $("target-choices").replaceChildren(el("p", "hint", "正在加载…"));
    } else if (!list.length) {
      $("target-choices").replaceChildren(el("p", "hint", "本大厅没有登记，请选择其他投诉对象"));
    } else {
      $("target-choices").replaceChildren(...list.map(choiceButton));
    }
  }
  if (codeWanted()) {
    $("target-code-prompt").textContent = PROMPT[form.about];
    $("complaint-code").textContent = form.code;
  }
  $("complaint-next-about").disabled = !aboutReady();
}

// Step 2: what happened, and who complains -----------------------------------------------------------

function renderText() {
  for (const button of $("complaint-who").querySelectorAll("[data-anonymous]")) {
    button.setAttribute("aria-pressed", String((button.dataset.anonymous === "true") === form.anonymous));
  }
  $("named-fields").hidden = form.anonymous;
  const count = characters(content());
  $("content-count").textContent = count < CONTENT_MIN ? `已输入 ${count} 字（至少 ${CONTENT_MIN} 字）` : `已输入 ${count} 字`;
  const named = form.anonymous || $("complaint-name").value.trim() !== "";
  $("complaint-next-text").disabled = count < CONTENT_MIN || !named;
}

// Step 3: check, answer, send ----------------------------------------------------------------------

function targetText() {
  if (listWanted()) {
    const list = (choices && (form.about === "window" ? choices.windows : choices.departments)) || [];
    const found = list.find((item) => item.code === form.choice);
    return found ? found.name : form.choice;
  }
  return codeWanted() ? form.code : "";
}

function renderSummary() {
  const text = content();
  const rows = [
    ["投诉对象", [ABOUT[form.about], targetText()].filter(Boolean).join(" · ")],
    ["投诉内容", characters(text) > 60 ? `${[...text].slice(0, 60).join("")}…` : text],
    ["署名", form.anonymous ? "匿名" : `实名：${$("complaint-name").value.trim()}`],
  ];
  const list = $("complaint-summary");
  list.replaceChildren();
  for (const [term, value] of rows) { list.append(el("dt", "", term), el("dd", "", value)); }
}

function typeAnswer(digit) {
  if (answer.length < ANSWER_MAX) { answer += digit; }
  hideError();
  renderConfirm();
}

function renderConfirm() {
  $("challenge-answer").textContent = answer;
  $("complaint-send").disabled = sending || challenge === null || answer === "";
  $("complaint-send").textContent = sending ? "正在提交…" : "提交投诉";
}

async function newChallenge() {
  const mine = generation;
  const ask = ++asking;
  challenge = null;
  answer = "";
  $("challenge-question").textContent = "正在获取验证题…";
  renderConfirm();
  try {
    const response = await fetch(`${API}/challenge`, { cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!response.ok) { throw new Error(`challenge: HTTP ${response.status}`); }
    const body = await response.json();
    if (mine !== generation || ask !== asking) { return; }
    challenge = { question: String(body.question), token: String(body.token) };
    $("challenge-question").textContent = challenge.question;
  } catch (error) {
    console.warn("complaint question not loaded", error);
    if (mine !== generation || ask !== asking) { return; }
    $("challenge-question").textContent = "暂时无法获取验证题，请稍后点“换一题”重试";
  }
  renderConfirm();
}

function body() {
  const sent = {
    about: form.about,
    content: content(),
    anonymous: form.anonymous,
    challenge: challenge.token,
    answer,
  };
  if (form.about === "window" || form.about === "department") { sent[form.about] = form.choice; }
  if (form.about === "staff") { sent.staff = form.code; }
  if (form.about === "case") { sent.case_no = form.code; }
  if (!form.anonymous) {
    sent.name = $("complaint-name").value.trim();
    const phone = $("complaint-phone").value.trim();
    if (phone) { sent.phone = phone; }
  }
  return JSON.stringify(sent);
}

/** Minutes to wait from a Retry-After header in seconds; null when absent. */
function retryMinutes(header) {
  return header && /^\d+$/.test(header.trim()) ? Math.max(1, Math.ceil(Number(header) / 60)) : null;
}

/** Central's (or the agent's) own zh-CN reason where there is one, else a plain one. */
async function failureText(response) {
  let detail = null;
  try {
    const answered = await response.json();
    if (answered && typeof answered.detail === "string") { detail = answered.detail; }
  } catch (error) {
    console.warn(`complaint refused (${response.status}) without a JSON detail`, error);
  }
  if (detail && /\p{Script=Han}/u.test(detail) && (response.status < 500 || response.status === 503)) {
    return detail;
  }
  if (response.status === 429) {
    const minutes = retryMinutes(response.headers.get("Retry-After"));
    return minutes ? `提交过于频繁，请 ${minutes} 分钟后再试` : "提交过于频繁，请稍后再试";
  }
  return UNSENT;
}

async function send() {
  if (sending || challenge === null || answer === "") { return; }
  const mine = generation;
  const payload = body();
  sending = true;
  hideError();
  renderConfirm();
  let receipt = null;
  let message = null;
  let keepQuestion = false;  // central never saw it: the same question may be answered again
  try {
    const response = await fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: payload,
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.ok) {
      receipt = await response.json();
    } else {
      message = await failureText(response);
      keepQuestion = response.status === 503;
    }
  } catch (error) {
    console.warn("complaint not sent", error);
    message = UNSENT;
    keepQuestion = true;
  }
  if (mine !== generation) { return; }  // the kiosk went home meanwhile: none of it is shown
  sending = false;
  if (receipt !== null) {
    showReceipt(receipt);
    go("complaint-receipt");
    return;
  }
  $("complaint-error").textContent = message;
  $("complaint-error").hidden = false;
  if (keepQuestion) { renderConfirm(); } else { newChallenge(); }  // a spent question is not asked again
}

function hideError() {
  $("complaint-error").hidden = true;
  $("complaint-error").textContent = "";
}

function showReceipt(receipt) {
  const config = getConfig() || {};
  const kiosk = config.kiosk || {};
  $("receipt-number").textContent = receipt.number;
  $("receipt-password").textContent = receipt.password;
  $("receipt-decide-by").textContent = receipt.decide_by ? `${receipt.decide_by} 前作出是否受理的决定` : "—";
  $("receipt-status-url").textContent = kiosk.complaint_status_url || "/complaints/status";
  // The receipt shows what was sent; the form itself is forgotten now.
  for (const id of ["complaint-content", "complaint-name", "complaint-phone"]) { $(id).value = ""; }
  form = blank();
  answer = "";
  challenge = null;
}
