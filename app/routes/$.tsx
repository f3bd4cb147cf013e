// Every URL no other route matches: a 404 inside the site (header kept, the user still signed in),
// rendered by the root ErrorBoundary. Matching here, rather than nowhere, also keeps Remix's "no
// route matches" error out of the log: an expected 404 is one request-log line.
export async function loader() {
  throw new Response("There is no page at this address.", { status: 404 });
}

// Other methods get the same 404, not a 405 for a page that does not exist.
export async function action() {
  throw new Response("There is no page at this address.", { status: 404 });
}

export default function NotFound() {
  return null;
}
