// Helpers for Whop-shaped objects: ids, copies, product routes.
import { randomBytes } from "node:crypto";

export const newId = (prefix: string) => `${prefix}_${randomBytes(9).toString("base64url").replace(/[-_]/g, "x")}`;
export const DAY_MS = 86_400_000;
export const copy = <T>(value: T): T => structuredClone(value);
export const productRoute = (productId: string) => productId.replace(/^prod_/, "").replace(/_/g, "-");
