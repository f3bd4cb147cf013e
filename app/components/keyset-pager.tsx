// "← Newer" / "Older →" for support's keyset-paged lists (newest first): each link keeps the page's
// search and filters and moves the cursor, `before` the first row shown or `after` the last.
import { Link, useSearchParams } from "@remix-run/react";

export function KeysetPager({
  newer,
  older,
  labels = { newer: "← Newer", older: "Older →" },
  drop = [],
}: {
  /** The cursor of the first row shown when newer rows exist, else null. */
  newer: string | number | null | undefined;
  /** The cursor of the last row shown when older rows exist, else null. */
  older: string | number | null | undefined;
  labels?: { newer: string; older: string };
  /** Other query parameters a page change drops (e.g. an open confirmation). */
  drop?: readonly string[];
}) {
  const [searchParams] = useSearchParams();
  const pageLink = (key: "after" | "before", cursor: string | number) => {
    const next = new URLSearchParams(searchParams);
    for (const name of ["after", "before", ...drop]) next.delete(name);
    next.set(key, String(cursor));
    return `?${next}`;
  };
  return (
    <p className="pager">
      {newer != null ? <Link to={pageLink("before", newer)}>{labels.newer}</Link> : null}
      {older != null ? <Link to={pageLink("after", older)}>{labels.older}</Link> : null}
    </p>
  );
}
