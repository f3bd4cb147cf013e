// Any other /api/v1 path: a problem-details 404, not the HTML page.
import { problem } from "~/web/problem.server.ts";

const notFound = () => problem("not_found", "No such API endpoint.");
export const loader = notFound;
export const action = notFound;
