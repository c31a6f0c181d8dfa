/**
 * The plain-data shape (src/domain/jsonShape.ts) of a Schema whose AST is structs, arrays, unions, literals and the
 * primitive keywords: the `data show` lane checks answers with the shape of the contract's own schema, derived at
 * build time (scripts/build-cli.ts), so the two cannot drift. Anything else (refinements, transformations, classes)
 * throws: the lane cannot check it without Effect, and the build fails rather than check less.
 */
import { SchemaAST as AST } from "effect"
import type { Shape } from "../domain/jsonShape.ts"

export const jsonShapeOf = (ast: AST.AST): Shape => {
  switch (ast._tag) {
    case "StringKeyword":
      return { t: "string" }
    case "NumberKeyword":
      return { t: "number" }
    case "BooleanKeyword":
      return { t: "boolean" }
    case "UnknownKeyword":
      return { t: "unknown" }
    case "UndefinedKeyword":
      return { t: "undefined" }
    case "Literal":
      if (typeof ast.literal === "bigint") break
      return { t: "literal", v: ast.literal }
    case "Union":
      // Structs in a union are tried in a search tree's order (by their literal fields), which a plain first match
      // follows only when there is at most one struct (the others are then primitives, which no struct matches).
      if (ast.types.filter((m) => m._tag === "TypeLiteral").length > 1) break
      return { t: "union", of: ast.types.map(jsonShapeOf) }
    case "TupleType":
      if (ast.elements.length !== 0 || ast.rest.length !== 1) break
      return { t: "array", of: jsonShapeOf(ast.rest[0]!.type) }
    case "TypeLiteral": {
      // An empty struct accepts any value that is not null or undefined, as is: no plain shape for that.
      if (ast.indexSignatures.length > 1 || (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0)) {
        break
      }
      const index = ast.indexSignatures[0]
      if (index !== undefined && index.parameter._tag !== "StringKeyword") break
      const fields = ast.propertySignatures.map((ps) => {
        if (typeof ps.name !== "string") throw new Error(`jsonShapeOf: a symbol key in ${String(ast)}`)
        return { name: ps.name, optional: ps.isOptional, shape: jsonShapeOf(ps.type) }
      })
      return index === undefined ? { t: "struct", fields } : { t: "struct", fields, rest: jsonShapeOf(index.type) }
    }
  }
  throw new Error(`jsonShapeOf: no plain shape for ${ast._tag} (${String(ast)})`)
}
