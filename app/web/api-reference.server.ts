// The admins' API reference (/admin/api), read out of the OpenAPI document: each operation's method,
// path, scope, parameters, body fields and responses with their problem codes, as plain rows the page
// renders. Only what the document says: a new operation or field shows up here without a change.
import { type OpenApiDocument, PROBLEM_CODES_EXTENSION, SCOPE_EXTENSION } from "./openapi.server.ts";

/** A field of a body or a parameter; nested objects are flattened to dotted names (`seats.limit`). */
export type ReferenceField = { name: string; type: string; required: boolean; description: string | null };

type ReferenceResponse = {
  status: string;
  description: string;
  contentType: string | null;
  /** Problem codes this status carries (none for a success). */
  codes: string[];
  /** A success's body fields. */
  fields: ReferenceField[];
};

export type ReferenceOperation = {
  id: string;
  method: string;
  path: string;
  /** The key scope it needs; null when it needs no key. */
  scope: string | null;
  summary: string;
  description: string;
  parameters: (ReferenceField & { in: string })[];
  body: ReferenceField[] | null;
  responses: ReferenceResponse[];
};

export type ApiReference = { title: string; version: string; operations: ReferenceOperation[] };

type Json = Record<string, unknown>;
const asJson = (value: unknown): Json => (value && typeof value === "object" ? (value as Json) : {});
const text = (value: unknown) => (typeof value === "string" ? value : null);

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

/** Follows a `#/components/...` reference (one hop is all the document uses, but any depth works). */
function resolve(document: Json, schema: Json): Json {
  let current = schema;
  for (let hops = 0; typeof current.$ref === "string" && hops < 10; hops++) {
    const path = current.$ref.replace(/^#\//, "").split("/");
    current = asJson(path.reduce<unknown>((node, key) => asJson(node)[key], document));
  }
  return current;
}

/** A schema's type in a few words: `string (email)`, `integer | null`, `"owner" | "member" | null`. */
function typeOf(document: Json, raw: Json): string {
  const schema = resolve(document, raw);
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (Array.isArray(schema.anyOf)) {
    return [...new Set(schema.anyOf.map((branch) => typeOf(document, asJson(branch))))].join(" | ");
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [text(schema.type) ?? "any"];
  return types
    .map((type) => {
      if (type === "array") return `array of ${typeOf(document, asJson(schema.items))}`;
      if (type === "object" && schema.additionalProperties) {
        return `map of ${typeOf(document, asJson(schema.additionalProperties))}`;
      }
      return schema.format ? `${type} (${String(schema.format)})` : type;
    })
    .join(" | ");
}

/** The fields of an object schema, nested objects (and arrays of them) flattened under their names. */
function fieldsOf(document: Json, raw: Json, prefix = ""): ReferenceField[] {
  const schema = resolve(document, raw);
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const fields: ReferenceField[] = [];
  for (const [name, rawProperty] of Object.entries(asJson(schema.properties))) {
    const property = resolve(document, asJson(rawProperty));
    const fullName = `${prefix}${name}`;
    fields.push({
      name: fullName,
      type: typeOf(document, asJson(rawProperty)),
      required: required.has(name),
      description: text(asJson(rawProperty).description) ?? text(property.description),
    });
    if (property.properties) fields.push(...fieldsOf(document, property, `${fullName}.`));
    const items = resolve(document, asJson(property.items));
    if (items.properties) fields.push(...fieldsOf(document, items, `${fullName}[].`));
  }
  return fields;
}

function responsesOf(document: Json, responses: Json): ReferenceResponse[] {
  return Object.entries(responses).map(([status, rawResponse]) => {
    const response = resolve(document, asJson(rawResponse));
    const [contentType, media] = Object.entries(asJson(response.content))[0] ?? [null, {}];
    const codes = response[PROBLEM_CODES_EXTENSION];
    const success = status.startsWith("2");
    return {
      status,
      description: text(response.description) ?? "",
      contentType,
      codes: Array.isArray(codes) ? codes.map(String) : [],
      fields: success ? fieldsOf(document, asJson(asJson(media).schema)) : [],
    };
  });
}

/** The reference's rows, in the document's order of paths and methods. */
export function apiReference(openApi: OpenApiDocument): ApiReference {
  const document = openApi as unknown as Json;
  const operations: ReferenceOperation[] = [];
  for (const [path, rawItem] of Object.entries(asJson(document.paths))) {
    const item = asJson(rawItem);
    for (const method of METHODS) {
      if (!item[method]) continue;
      const operation = asJson(item[method]);
      const parameters = (Array.isArray(operation.parameters) ? operation.parameters : []).map((raw) => {
        const parameter = resolve(document, asJson(raw));
        return {
          name: text(parameter.name) ?? "",
          in: text(parameter.in) ?? "",
          type: typeOf(document, asJson(parameter.schema)),
          required: parameter.required === true,
          description: text(parameter.description),
        };
      });
      const body = asJson(asJson(asJson(operation.requestBody).content)["application/json"]).schema;
      operations.push({
        id: text(operation.operationId) ?? `${method}-${path}`,
        method: method.toUpperCase(),
        path,
        scope: text(operation[SCOPE_EXTENSION]),
        summary: text(operation.summary) ?? "",
        description: text(operation.description) ?? "",
        parameters,
        body: body ? fieldsOf(document, asJson(body)) : null,
        responses: responsesOf(document, asJson(operation.responses)),
      });
    }
  }
  const info = asJson(document.info);
  return { title: text(info.title) ?? "API", version: text(info.version) ?? "", operations };
}
