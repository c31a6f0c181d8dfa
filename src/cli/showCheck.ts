/**
 * The `data show` lane's check of an answer, without Effect: a 200 must have the shape of the bars endpoint's own
 * success schema (BarsAnswer) and is decoded as that schema decodes it; a 404 must have the shape of the failure
 * envelope NotFoundWire is built on, with DATA-NotFound as its code (the full program prints "no data" for that one
 * only). The shapes are derived from those schemas when the lane is built (jsonShapeOf.ts).
 */
import type { OhlcvData } from "../contract/ohlcvAnswer.ts"
import { checkShape, NO, type Shape } from "../domain/jsonShape.ts"

export interface AnswerShapes {
  /** BarsAnswer's. */
  readonly bars: Shape
  /** FailureEnvelope's. */
  readonly failure: Shape
}

export type Checked =
  | { readonly _tag: "Bars"; readonly data: OhlcvData }
  | { readonly _tag: "NotStored" }
  | { readonly _tag: "Other"; readonly reason: string }

/** What the full program makes of `status` and the parsed JSON body, when the lane can print it. */
export const checkAnswer = (shapes: AnswerShapes, status: number, body: unknown): Checked => {
  if (status === 200) {
    const r = checkShape(shapes.bars, body)
    return r === NO ? { _tag: "Other", reason: "200 body" } : { _tag: "Bars", data: (r as { data: OhlcvData }).data }
  }
  if (status === 404) {
    const r = checkShape(shapes.failure, body)
    return r !== NO && (r as { error: { code: string } }).error.code === "DATA-NotFound"
      ? { _tag: "NotStored" }
      : { _tag: "Other", reason: "404 body" }
  }
  return { _tag: "Other", reason: `status ${status}` }
}
