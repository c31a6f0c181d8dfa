/**
 * A load's data-quality verdict, accumulated segment by segment: each fetched segment is checked on its
 * own (a few thousand bars at most, so the event loop is never held), and the counts add up per issue.
 * Outliers are therefore judged within their segment — local spikes, which is what a bad print is.
 */
import type { IssueType, QualityIssue, QualityReport, Severity } from "./QualityCheck.ts"

export interface QualityIssueCount {
  readonly type: IssueType
  readonly severity: Severity
  readonly count: number
  /** What the issue is, without any one segment's numbers (e.g. "price outliers"). */
  readonly description: string
  /** The rule that flagged them, with its numbers (the first segment's, where they depend on the data). */
  readonly threshold: string | null
  /** The first flagged bars (ISO times, at most MAX_LISTED), so a user can look at them. */
  readonly bars: ReadonlyArray<string>
}

/** Bars listed per issue kind: enough to look at, bounded for a load of years. */
export const MAX_LISTED = 20

export interface QualitySummary {
  readonly checkedBars: number
  /** Kinds of issue at each severity. */
  readonly errors: number
  readonly warnings: number
  readonly issues: ReadonlyArray<QualityIssueCount>
}

export const emptyQuality: QualitySummary = { checkedBars: 0, errors: 0, warnings: 0, issues: [] }

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 }

/** A segment's report added to the load's summary. */
export const addQuality = (acc: QualitySummary, r: QualityReport): QualitySummary =>
  mergeQuality(acc, {
    checkedBars: r.totalBars,
    errors: 0,
    warnings: 0,
    issues: r.issues.map((i) => ({
      type: i.type,
      severity: i.severity,
      count: i.count,
      description: i.type.replaceAll("_", " "),
      threshold: i.threshold ?? null,
      bars: listed([], i)
    }))
  })

const listed = (prev: ReadonlyArray<string>, i: QualityIssue): ReadonlyArray<string> =>
  prev.length >= MAX_LISTED
    ? prev
    : [...prev, ...i.examples.map((e) => new Date(e.time).toISOString())].slice(0, MAX_LISTED)

/** One line per warning or error kind, for an operation's `warnings`: which bars, and by what rule. */
export const qualityLines = (q: QualitySummary): ReadonlyArray<string> =>
  q.issues.filter((i) => i.severity !== "info").map((i) => {
    const more = i.count > i.bars.length ? `, +${i.count - i.bars.length} more` : ""
    const at = i.bars.length > 0 ? `: ${i.bars.join(", ")}${more}` : ""
    return `Data quality ${i.severity}: ${i.description} (${i.count} bars${at})` +
      (i.threshold ? `; rule: ${i.threshold}` : "")
  })

/** Two summaries as one (segments checked on different runners): counts add, the worse severity wins. */
export const mergeQuality = (a: QualitySummary, b: QualitySummary): QualitySummary => {
  const byType = new Map(a.issues.map((i) => [i.type, i]))
  for (const i of b.issues) {
    const prev = byType.get(i.type)
    byType.set(
      i.type,
      prev
        ? {
          ...prev,
          count: prev.count + i.count,
          severity: RANK[i.severity] > RANK[prev.severity] ? i.severity : prev.severity,
          bars: [...prev.bars, ...i.bars].slice(0, MAX_LISTED)
        }
        : i
    )
  }
  const issues = [...byType.values()].sort((x, y) => RANK[y.severity] - RANK[x.severity] || y.count - x.count)
  return {
    checkedBars: a.checkedBars + b.checkedBars,
    errors: issues.filter((i) => i.severity === "error").length,
    warnings: issues.filter((i) => i.severity === "warning").length,
    issues
  }
}
