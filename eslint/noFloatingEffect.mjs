/**
 * A statement that builds an Effect and drops it: the Effect never runs. `Effect.log("x")` written
 * without `yield*` in a generator is the classic case; typescript-eslint's no-floating-promises cannot
 * see it because an Effect is not a Promise. Uses the type checker: the statement's type carries
 * Effect's type id and is not a Fiber (a forked fiber dropped on purpose is running already).
 */
import { ESLintUtils } from "@typescript-eslint/utils"

const carries = (checker, type, prefix) =>
  checker.getPropertiesOfType(checker.getApparentType(type)).some((p) => p.escapedName.startsWith(prefix))

const isEffect = (checker, type) => {
  const parts = type.isUnion() ? type.types : [type]
  return parts.some((t) => carries(checker, t, "__@EffectTypeId") && !carries(checker, t, "__@FiberTypeId"))
}

export const noFloatingEffect = ESLintUtils.RuleCreator.withoutDocs({
  meta: {
    type: "problem",
    messages: {
      floating: "This Effect is built and dropped, so it never runs: yield* it, return it, or run it explicitly"
    },
    schema: []
  },
  defaultOptions: [],
  create(context) {
    const services = ESLintUtils.getParserServices(context)
    const checker = services.program.getTypeChecker()
    return {
      ExpressionStatement(node) {
        const e = node.expression
        if (e.type === "AssignmentExpression" || e.type === "YieldExpression" || e.type === "Literal") return
        if (e.type === "UnaryExpression" && e.operator === "void") return
        if (isEffect(checker, services.getTypeAtLocation(e))) context.report({ node, messageId: "floating" })
      }
    }
  }
})
