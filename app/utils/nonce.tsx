// The Content-Security-Policy nonce of the current response, for the inline <script>s React and Remix
// render. Only the server provides it: in the browser the nonce attribute is hidden (reads back as ""),
// so the client renders without one and Remix's scripts carry suppressHydrationWarning.
import { createContext, useContext } from "react";
import { z } from "zod";

// The CSP has no 'unsafe-eval'. zod 4 probes `new Function("")` when an object schema is built (to
// compile faster parsers); the probe is caught, but Chromium still reports a CSP violation on every
// form page. root.tsx imports this module, so this runs before any route's schemas are built.
if (typeof document !== "undefined") z.config({ jitless: true });

const NonceContext = createContext<string | undefined>(undefined);

export const NonceProvider = NonceContext.Provider;

export function useNonce(): string | undefined {
  return useContext(NonceContext);
}
