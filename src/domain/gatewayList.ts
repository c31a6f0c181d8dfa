/**
 * `KTRDR_IB_GATEWAYS`: the gateways a cluster shares, as `name=host:port/clientId` items separated by commas
 * (`/clientId` optional, default 1), e.g. `gw1=10.0.0.5:4002/7,gw2=10.0.0.6:4002`. Names key the cluster's gateway
 * entities, so they must be unique; one (host, port, client id) twice would be two sessions with one client id to one
 * gateway, which IB refuses (326), so that is an error here rather than a failover loop later.
 */
import { Either } from "effect"

export interface GatewayEntry {
  readonly name: string
  readonly host: string
  readonly port: number
  readonly clientId: number
}

const ITEM = /^([A-Za-z0-9][A-Za-z0-9_-]{0,31})=([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):(\d{1,5})(?:\/(\d{1,10}))?$/

const parseItem = (raw: string): Either.Either<GatewayEntry, string> => {
  const m = ITEM.exec(raw)
  if (!m) {
    return Either.left(`${JSON.stringify(raw)} is not name=host:port[/clientId] (e.g. gw1=127.0.0.1:4002/1)`)
  }
  const port = Number(m[3])
  if (port < 1 || port > 65535) return Either.left(`${JSON.stringify(raw)}: port ${port} is outside 1..65535`)
  const clientId = m[4] === undefined ? 1 : Number(m[4])
  if (clientId > 2_147_483_647) return Either.left(`${JSON.stringify(raw)}: client id ${clientId} is too large`)
  return Either.right({ name: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ""), port, clientId })
}

/** The list, or one message naming the first bad item. Empty text is an empty list. */
export const parseGatewayList = (text: string): Either.Either<ReadonlyArray<GatewayEntry>, string> => {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  const out: Array<GatewayEntry> = []
  const names = new Set<string>()
  const sessions = new Set<string>()
  for (const item of items) {
    const e = parseItem(item)
    if (Either.isLeft(e)) return Either.left(e.left)
    const g = e.right
    if (names.has(g.name)) return Either.left(`gateway name ${g.name} appears twice`)
    const session = `${g.host.toLowerCase()}:${g.port}/${g.clientId}`
    if (sessions.has(session)) {
      return Either.left(`${session} appears twice: one client id can hold only one session to a gateway`)
    }
    names.add(g.name)
    sessions.add(session)
    out.push(g)
  }
  return Either.right(out)
}

/** `host:port` of a runner's cluster socket. */
export const parseHostPort = (
  text: string
): Either.Either<{ readonly host: string; readonly port: number }, string> => {
  const m = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(text.trim())
  const port = m ? Number(m[2]) : 0
  return m && port >= 1 && port <= 65535
    ? Either.right({ host: m[1]!.replace(/^\[|\]$/g, ""), port })
    : Either.left(`expected host:port such as 127.0.0.1:34431, got ${JSON.stringify(text)}`)
}
