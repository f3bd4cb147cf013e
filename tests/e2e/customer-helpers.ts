// Shared by the customer e2e specs: the two viewports, the "fits the screen" check and axe.
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";

export const VIEWPORTS = [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  {
    name: "phone 390px",
    use: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  },
] as const;

/** The page scrolls only vertically: nothing is wider than the window. */
export async function expectNoSidewaysScroll(page: Page) {
  const widths = await page.evaluate(() => ({
    document: document.documentElement.scrollWidth,
    window: window.innerWidth,
    // What sticks out, to say why when it fails.
    wider: [...document.querySelectorAll("body *")]
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 3)
      .map((element) => `${element.tagName.toLowerCase()}.${String(element.className)}`),
  }));
  expect(widths.document, `${page.url()} is wider than the window: ${widths.wider.join(", ")}`).toBeLessThanOrEqual(
    widths.window,
  );
}

/** WCAG 2.1 A and AA, as axe checks them: no violation at all. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const violations = results.violations.map(
    (violation) =>
      `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).join("; ")})`,
  );
  expect(violations, `axe on ${page.url()}`).toEqual([]);
}

/** Both checks, once the page has settled. */
export async function expectFitsAndAccessible(page: Page) {
  await page.waitForLoadState("networkidle");
  await expectNoSidewaysScroll(page);
  await expectAccessible(page);
}

/** The Stripe emulator's origin, read from one of its hosted pages the browser is on. */
export function emulatorOrigin(page: Page) {
  return new URL(page.url()).origin;
}
