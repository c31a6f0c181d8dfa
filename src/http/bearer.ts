/** Bearer tokens compared in constant time: the API's auth middleware and the docs guard share it. */
import { timingSafeEqual } from "node:crypto"

export const sameToken = (given: string, expected: string): boolean => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The token of an `Authorization: Bearer <token>` header, or "" when there is none. */
export const bearerOf = (header: string | undefined): string => /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() ?? ""
