// A server-rendered TanStack Table v9 table: header groups and rows, each cell labelled with its
// column header so narrow screens can show rows as cards (see app.css), rows tagged for tests.
import type { ReactTable } from "@tanstack/react-table";
import type { RowData, TableFeatures } from "@tanstack/react-table";
import type { ReactNode } from "react";

export function DataTable<TFeatures extends TableFeatures, TData extends RowData>({
  table,
  caption,
  testId,
  className,
  rowAttributes,
  header,
}: {
  table: ReactTable<TFeatures, TData>;
  caption: string;
  testId: string;
  className?: string;
  /** data-* attributes for a row, e.g. its status, so a glance (or a test) can find it. */
  rowAttributes?: (row: TData) => Record<`data-${string}`, string>;
  /** Renders a header cell's content; by default the column's header. */
  header?: (column: { id: string; label: string; sortable: boolean }) => ReactNode;
}) {
  return (
    <div className="table-scroll">
      <table data-testid={testId} className={className}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((cell) => {
                const label =
                  typeof cell.column.columnDef.header === "string" ? cell.column.columnDef.header : cell.column.id;
                // Sorting helpers exist only when the table has the sorting feature.
                const column = cell.column as {
                  getIsSorted?: () => false | "asc" | "desc";
                  getCanSort?: () => boolean;
                };
                const sorted = column.getIsSorted?.();
                return (
                  <th
                    key={cell.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                  >
                    {cell.isPlaceholder ? null : header ? (
                      header({ id: cell.column.id, label, sortable: column.getCanSort?.() ?? false })
                    ) : (
                      <table.FlexRender header={cell} />
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} {...rowAttributes?.(row.original)}>
              {row.getAllCells().map((cell) => (
                <td
                  key={cell.id}
                  data-label={typeof cell.column.columnDef.header === "string" ? cell.column.columnDef.header : ""}
                >
                  <table.FlexRender cell={cell} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
