/* hallwatch kiosk: the on-screen keys the kiosk's screens share (case number, query password, a staff
 * number, the complaint question's answer). Written here, no third-party code. */

import { el } from "./feed.js";

export const ALNUM_ROWS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM"];
export const DIGIT_ROWS = ["123", "456", "789"];

/** One key; `onPress(label)` on a touch. */
export function key(label, onPress, { name, wide } = {}) {
  const button = el("button", `key${wide ? " wide" : ""}`, label);
  button.type = "button";
  if (name) { button.setAttribute("aria-label", name); }
  button.addEventListener("click", () => onPress(label));
  return button;
}

/** Letters and digits in rows into `pad`; the last row ends with 退格 and 清空. */
export function alnumPad(pad, { type, backspace, clear }) {
  for (const row of ALNUM_ROWS) {
    const line = el("div", "key-row");
    for (const char of row) { line.append(key(char, type)); }
    pad.append(line);
  }
  pad.lastElementChild.append(key("⌫", backspace, { name: "退格" }), key("清空", clear, { wide: true }));
}

/** A telephone-style digit pad into `pad`: 1–9, then 清空 0 退格. */
export function digitPad(pad, { type, backspace, clear }) {
  for (const row of DIGIT_ROWS) {
    const line = el("div", "key-row");
    for (const digit of row) { line.append(key(digit, type)); }
    pad.append(line);
  }
  const last = el("div", "key-row");
  last.append(key("清空", clear), key("0", type), key("⌫", backspace, { name: "退格" }));
  pad.append(last);
}
