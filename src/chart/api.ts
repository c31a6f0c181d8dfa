/// <reference lib="dom" />
/**
 * The page's HTTP client: same-origin `/api/v1` calls with the bearer token (kept in sessionStorage, so
 * it is entered once per tab and never persisted to disk), every failure turned into one `ApiError`
 * carrying the envelope's code — what the banner shows.
 */

const TOKEN_KEY = "ktrdr.apiToken"

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY)
export const setToken = (token: string | null) =>
  token === null || token === "" ? sessionStorage.removeItem(TOKEN_KEY) : sessionStorage.setItem(TOKEN_KEY, token)

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: unknown = null) {
    super(message)
  }
}

export const authHeaders = (): Record<string, string> => {
  const token = getToken()
  return token === null ? {} : { authorization: `Bearer ${token}` }
}

interface Envelope<A> {
  readonly success: boolean
  readonly data: A
  readonly error: { readonly code: string; readonly message: string; readonly details: unknown } | null
}

/** One request; resolves to the envelope's `data`, or throws an `ApiError` with the server's code. */
export const request = async <A>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {}
): Promise<A> => {
  let res: Response
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers: {
        accept: "application/json",
        ...authHeaders(),
        ...(init.body === undefined ? {} : { "content-type": "application/json" })
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal })
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e
    throw new ApiError(0, "NETWORK_ERROR", `The server did not answer (${e instanceof Error ? e.message : String(e)})`)
  }
  const text = await res.text()
  let json: Envelope<A> | undefined
  try {
    json = JSON.parse(text) as Envelope<A>
  } catch {
    json = undefined
  }
  if (res.ok && json?.success === true) return json.data
  if (json?.error) throw new ApiError(res.status, json.error.code, json.error.message, json.error.details)
  throw new ApiError(res.status, `HTTP_${res.status}`, text.slice(0, 200) || res.statusText)
}

export const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") s.set(k, v)
  return s.toString()
}

export const seg = encodeURIComponent
