/**
 * Hand-written SVG line charts for `bench/latency.svg`: no dependencies, deterministic
 * output, readable in a browser and on GitHub.
 *
 * @module
 */

/** One line of a chart. */
export interface Series {
  /** Legend text. */
  name: string;
  /** Stroke colour. */
  color: string;
  /** Points in data units; `null` y values break the line. */
  points: [number, number | null][];
  /** Dashed stroke. */
  dashed?: boolean;
}

/** A tick on an axis: where (data units) and what it says. */
export interface Tick {
  /** Position in data units. */
  value: number;
  /** Label. */
  label: string;
}

/** One chart panel. */
export interface Panel {
  /** Title above the plot. */
  title: string;
  /** Label under the x axis. */
  xLabel: string;
  /** Label along the y axis. */
  yLabel: string;
  /** X range in data units. */
  x: [number, number];
  /** Y range in data units (for a log axis: positive). */
  y: [number, number];
  /** Logarithmic y axis. */
  yLog?: boolean;
  /** X ticks. */
  xTicks: Tick[];
  /** Y ticks. */
  yTicks: Tick[];
  /** The lines. */
  series: Series[];
  /** Vertical markers (e.g. token rollovers), in x data units. */
  markers?: { values: number[]; label: string; color: string };
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function fixed(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

function renderPanel(panel: Panel, left: number, top: number, width: number, height: number) {
  const plot = { left: left + 64, top: top + 34, width: width - 64 - 16, height: height - 34 - 74 };
  const sx = (x: number) => plot.left + ((x - panel.x[0]) / (panel.x[1] - panel.x[0])) * plot.width;
  const ty = (y: number) => (panel.yLog ? Math.log10(y) : y);
  const [y0, y1] = [ty(panel.y[0]), ty(panel.y[1])];
  const sy = (y: number) => {
    const clamped = Math.min(Math.max(ty(y), y0), y1);
    return plot.top + plot.height - ((clamped - y0) / (y1 - y0)) * plot.height;
  };
  const out: string[] = [];
  out.push(
    `<text x="${left + 8}" y="${top + 20}" font-size="15" font-weight="600" ${FONT}>${
      escape(panel.title)
    }</text>`,
  );
  out.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="#fafafa" stroke="#ccc"/>`,
  );
  for (const tick of panel.yTicks) {
    const y = fixed(sy(tick.value));
    out.push(
      `<line x1="${plot.left}" x2="${
        plot.left + plot.width
      }" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`,
    );
    out.push(
      `<text x="${
        plot.left - 6
      }" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle" ${FONT}>${
        escape(tick.label)
      }</text>`,
    );
  }
  for (const tick of panel.xTicks) {
    const x = fixed(sx(tick.value));
    // The last tick's label would overflow the right edge if centred.
    const anchor = sx(tick.value) > plot.left + plot.width - 20 ? "end" : "middle";
    out.push(
      `<line x1="${x}" x2="${x}" y1="${plot.top}" y2="${
        plot.top + plot.height
      }" stroke="#e4e4e4"/>`,
    );
    out.push(
      `<text x="${x}" y="${
        plot.top + plot.height + 16
      }" font-size="11" text-anchor="${anchor}" ${FONT}>${escape(tick.label)}</text>`,
    );
  }
  if (panel.markers) {
    for (const value of panel.markers.values) {
      const x = fixed(sx(value));
      out.push(
        `<line x1="${x}" x2="${x}" y1="${plot.top}" y2="${
          plot.top + plot.height
        }" stroke="${panel.markers.color}" stroke-dasharray="3 3"/>`,
      );
    }
  }
  for (const series of panel.series) {
    const segments: string[][] = [[]];
    for (const [x, y] of series.points) {
      if (y === null || !Number.isFinite(y)) {
        if (segments[segments.length - 1].length > 0) segments.push([]);
        continue;
      }
      segments[segments.length - 1].push(`${fixed(sx(x))},${fixed(sy(y))}`);
    }
    for (const segment of segments.filter((s) => s.length > 0)) {
      out.push(
        `<polyline fill="none" stroke="${series.color}" stroke-width="2"${
          series.dashed ? ' stroke-dasharray="6 3"' : ""
        } points="${segment.join(" ")}"/>`,
      );
    }
  }
  out.push(
    `<text x="${plot.left + plot.width / 2}" y="${
      plot.top + plot.height + 36
    }" font-size="12" text-anchor="middle" ${FONT}>${escape(panel.xLabel)}</text>`,
  );
  const yMid = plot.top + plot.height / 2;
  out.push(
    `<text x="${left + 14}" y="${yMid}" font-size="12" text-anchor="middle" transform="rotate(-90 ${
      left + 14
    } ${yMid})" ${FONT}>${escape(panel.yLabel)}</text>`,
  );
  // Legend under the axis label, wrapped to a second row when needed.
  let lx = plot.left;
  let ly = plot.top + plot.height + 52;
  const legend = [
    ...panel.series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed === true })),
    ...(panel.markers
      ? [{ name: panel.markers.label, color: panel.markers.color, dashed: true }]
      : []),
  ];
  for (const item of legend) {
    const itemWidth = 34 + item.name.length * 6.2;
    if (lx > plot.left && lx + itemWidth > plot.left + plot.width) {
      lx = plot.left;
      ly += 16;
    }
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${
        ly - 4
      }" stroke="${item.color}" stroke-width="2"${item.dashed ? ' stroke-dasharray="4 3"' : ""}/>`,
    );
    out.push(`<text x="${lx + 27}" y="${ly}" font-size="11" ${FONT}>${escape(item.name)}</text>`);
    lx += itemWidth;
  }
  return out.join("\n");
}

/**
 * Renders panels stacked vertically into one SVG document.
 *
 * @param panels The panels, top to bottom.
 * @param options Width and height of each panel, and an optional caption at the bottom.
 * @returns The SVG text.
 */
export function renderChart(
  panels: Panel[],
  options: { width?: number; panelHeight?: number; caption?: string } = {},
): string {
  const width = options.width ?? 820;
  const panelHeight = options.panelHeight ?? 350;
  const captionHeight = options.caption ? 24 : 0;
  const height = panels.length * panelHeight + captionHeight;
  const body = panels.map((panel, i) => renderPanel(panel, 0, i * panelHeight, width, panelHeight));
  const caption = options.caption
    ? `<text x="8" y="${height - 8}" font-size="11" fill="#555" ${FONT}>${
      escape(options.caption)
    }</text>`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<rect width="100%" height="100%" fill="#fff"/>
${body.join("\n")}
${caption}
</svg>
`;
}
