// Processed, failed and stale webhooks per day as stacked bars in plain SVG, rendered on the server
// (no chart library, no JavaScript needed), with the same figures in a table for screen readers.
import type { DailyEventCounts } from "~/models/event-counts.server.ts";

const SERIES = [
  { key: "processed", label: "processed", color: "#12b76a" },
  { key: "stale", label: "stale", color: "#98a2b3" },
  { key: "failed", label: "failed", color: "#d92d20" },
] as const;

const WIDTH = 560;
const HEIGHT = 160;
const AXIS = 22;

export function WebhookChart({ days }: { days: DailyEventCounts[] }) {
  const max = Math.max(1, ...days.map((day) => day.processed + day.failed + day.stale));
  const slot = WIDTH / Math.max(1, days.length);
  const barWidth = Math.max(4, slot * 0.7);
  const scale = (HEIGHT - AXIS - 8) / max;
  return (
    <figure className="chart" data-testid="webhook-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="webhook-chart-title"
        preserveAspectRatio="none"
      >
        <title id="webhook-chart-title">Webhooks per day: processed, stale and failed</title>
        {days.map((day, index) => {
          let y = HEIGHT - AXIS;
          const x = index * slot + (slot - barWidth) / 2;
          return (
            <g key={day.day}>
              {SERIES.map((series) => {
                const height = day[series.key] * scale;
                y -= height;
                return height > 0 ? (
                  <rect key={series.key} x={x} y={y} width={barWidth} height={height} fill={series.color}>
                    <title>{`${day.day}: ${day[series.key]} ${series.label}`}</title>
                  </rect>
                ) : null;
              })}
              {index % 2 === 0 ? (
                <text x={x + barWidth / 2} y={HEIGHT - 6} textAnchor="middle" fontSize="10" fill="#5b6577">
                  {day.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {SERIES.map((series) => (
          <span key={series.key}>
            <span className="swatch" style={{ background: series.color }} aria-hidden="true" /> {series.label}
          </span>
        ))}
      </figcaption>
      <table className="visually-hidden">
        <caption>Webhooks per day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {SERIES.map((series) => (
              <th key={series.key} scope="col">
                {series.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {days.map((day) => (
            <tr key={day.day}>
              <th scope="row">{day.day}</th>
              {SERIES.map((series) => (
                <td key={series.key}>{day[series.key]}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
