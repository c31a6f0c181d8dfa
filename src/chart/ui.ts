/// <reference lib="dom" />
/** The error banner and the token dialog. */
import { getToken, setToken, type ApiError } from "./api.ts"

export const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`the page has no #${id}`)
  return el as T
}

export interface Banner {
  readonly show: (e: ApiError) => void
  readonly clear: () => void
  /** The last code shown (for tests and for not stacking the same error). */
  readonly lastCode: () => string | null
}

export const makeBanner = (): Banner => {
  const box = byId<HTMLDivElement>("banner")
  const text = byId<HTMLSpanElement>("banner-text")
  let last: string | null = null
  const clear = () => {
    box.hidden = true
    text.textContent = ""
    last = null
  }
  byId<HTMLButtonElement>("banner-close").addEventListener("click", clear)
  return {
    show: (e) => {
      last = e.code
      box.dataset["code"] = e.code
      text.textContent = `Error ${e.code}${e.status > 0 && e.status !== 200 ? ` (HTTP ${e.status})` : ""}: ${e.message}`
      box.hidden = false
    },
    clear,
    lastCode: () => last
  }
}

/**
 * The token prompt: opened by the header button, or by a 401 (with the server's message). Saving keeps
 * the token in sessionStorage and calls `onChange` so the page retries what failed.
 */
export const makeTokenDialog = (onChange: () => void) => {
  const dialog = byId<HTMLDialogElement>("token-dialog")
  const input = byId<HTMLInputElement>("token-input")
  const reason = byId<HTMLParagraphElement>("token-reason")
  const defaultReason = reason.textContent ?? ""
  const open = (why?: string) => {
    reason.textContent = why ?? defaultReason
    input.value = getToken() ?? ""
    // Escape keeps the previous returnValue; reset it so a dismissed dialog changes nothing.
    dialog.returnValue = ""
    if (!dialog.open) dialog.showModal()
    input.focus()
  }
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "save") setToken(input.value.trim())
    else if (dialog.returnValue === "clear") setToken(null)
    else return
    input.value = ""
    onChange()
  })
  byId<HTMLButtonElement>("token-button").addEventListener("click", () => open())
  return { open }
}
