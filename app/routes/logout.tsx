// Sign-out is a POST (a GET could be triggered by any link or image on another site).
import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { destroyUserSession } from "~/web/session.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  return destroyUserSession(request, "/");
}

export async function loader() {
  return redirect("/");
}
