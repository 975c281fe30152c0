/* hallwatch kiosk: the item catalog (办事指南) and the hall's rules and how to complain, as the
 * display agent serves them (common/public_feed.py: Catalog, HallInfo). Written here, no third-party
 * code. Searching needs no typing skills: the characters most used in the hall's item names are keys
 * of their own, and the departments are buttons; a real keyboard or the system's on-screen one also
 * works in the search box. */

import { el, hallPath } from "./feed.js";

const CHAR_KEYS = 24;
const REQUEST_TIMEOUT_MS = 15000;
const $ = (id) => document.getElementById(id);

let items = null;  // the catalog's items once loaded
let department = "";  // "" = all
let onOpen = () => {};
let wired = false;

async function getJson(config, tail) {
  const response = await fetch(hallPath(config, tail), {
    cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) { throw new Error(`${tail}: HTTP ${response.status}`); }
  return response.json();
}

/** Forgets the search, the department chosen and the item shown (the kiosk went home). */
export function resetCatalog() {
  $("search").value = "";
  department = "";
  $("item").replaceChildren();
  render();
}

/** The catalog screen; `open(item)` is called when an item is chosen. */
export async function showCatalog(config, open) {
  onOpen = open || onOpen;
  if (!wired) { wire(); }
  if (!items) { $("catalog-count").textContent = "正在加载…"; }
  try {
    items = (await getJson(config, "catalog")).items;
  } catch (error) {
    console.warn("catalog not loaded", error);
    if (!items) { $("catalog-count").textContent = "暂时无法获取办事指南，请稍后再试"; return; }
  }
  buildKeys();
  render();
}

function wire() {
  wired = true;
  $("search").addEventListener("input", render);
  $("search-clear").addEventListener("click", () => { $("search").value = ""; render(); });
}

/** The characters most used in the item names, most used first. */
function commonChars() {
  const counts = new Map();
  for (const item of items) {
    for (const char of new Set(item.name)) {
      if (/\p{Script=Han}/u.test(char)) { counts.set(char, (counts.get(char) || 0) + 1); }
    }
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, CHAR_KEYS).map(([char]) => char);
}

function button(className, text, onClick) {
  const node = el("button", className, text);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function buildKeys() {
  const search = $("search");
  const keys = commonChars().map((char) => button("key", char, () => { search.value += char; render(); }));
  keys.push(button("key", "⌫", () => { search.value = search.value.slice(0, -1); render(); }));
  keys[keys.length - 1].setAttribute("aria-label", "退格");
  $("char-keys").replaceChildren(...keys);
}

function matches(item, words) {
  const fields = [item.name, item.department, item.code].map((text) => text.toLowerCase());
  return (!department || item.department === department)
    && words.every((word) => fields.some((field) => field.includes(word)));
}

function render() {
  if (!items) { return; }  // typed before the catalog arrived: shown once it does
  const departments = [...new Set(items.map((item) => item.department))].sort((a, b) => a.localeCompare(b, "zh-CN"));
  const chips = ["", ...departments].map((name) => {
    const chip = button("chip", name || "全部部门", () => { department = name; render(); });
    chip.setAttribute("aria-pressed", String(name === department));
    return chip;
  });
  $("departments").replaceChildren(...chips);
  const words = $("search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const shown = items.filter((item) => matches(item, words));
  $("catalog-count").textContent = shown.length ? `共 ${shown.length} 项` : "没有找到相关事项";
  $("catalog-list").replaceChildren(...shown.map((item) => {
    const row = button("item-row", "", () => onOpen(item));
    row.dataset.code = item.code;
    const limit = item.promised_limit_days ?? item.legal_limit_days;
    row.append(el("span", "item-name", item.name), el("span", "item-meta", `${item.department} · ${limit} 个工作日`));
    const li = el("li");
    li.append(row);
    return li;
  }));
}

const days = (value) => (value === null || value === undefined ? "—" : `${value} 个工作日`);
const fee = (value) => (Number(value) === 0 ? "不收费" : `${value} 元`);

/** Fills the item screen with one catalog item. */
export function showItem(item) {
  const facts = el("dl", "facts");
  for (const [term, value] of [
    ["实施部门", item.department], ["事项编码", item.code], ["法定时限", days(item.legal_limit_days)],
    ["承诺时限", days(item.promised_limit_days)], ["收费", fee(item.fee)],
  ]) {
    facts.append(el("dt", "", term), el("dd", "", value));
  }
  const materials = item.materials.length ? el("ol", "materials") : el("p", "", "—");
  for (const material of item.materials) { materials.append(el("li", "", material)); }
  $("item").replaceChildren(
    el("h2", "", item.name), facts,
    el("h3", "", "办理条件"), el("p", "text", item.conditions || "—"),
    el("h3", "", "申请材料"), materials,
    el("h3", "", "设定依据"), el("p", "text", item.basis || "—"),
  );
}

/** The hall's rules and how to complain, section by section. */
export async function showInfo(config) {
  const box = $("info");
  if (!box.childElementCount) { box.replaceChildren(el("p", "hint", "正在加载…")); }
  let info;
  try {
    info = await getJson(config, "info");
  } catch (error) {
    console.warn("hall info not loaded", error);
    if (!box.querySelector("section")) { box.replaceChildren(el("p", "hint", "暂时无法获取，请稍后再试")); }
    return;
  }
  const parts = [];
  if (info.address) { parts.push(el("p", "address", `地址：${info.address}`)); }
  for (const section of info.sections) {
    const part = el("section", "info-section");
    part.append(el("h3", "", section.title), el("p", "text", section.text));
    parts.push(part);
  }
  box.replaceChildren(...parts);
}
