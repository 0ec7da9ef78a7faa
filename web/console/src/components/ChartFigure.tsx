// A Chart.js chart in <figure data-chart="name"> with a <figcaption>, and the same numbers as a
// table under a <details> disclosure (the chart's text alternative).
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip, type ChartConfiguration, type ChartDataset,
} from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import { TableWrap } from './TableWrap';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, Filler);

// Colours with ≥ 4.5:1 contrast on white (and distinguishable without colour: dashes, legend).
export const PALETTE = ['#1d4ed8', '#b45309', '#047857', '#7e22ce', '#be123c', '#374151'];

export interface Series {
  label: string;
  data: (number | null)[];
  /** A reference line (target): dashed, no points. */
  target?: boolean;
  color?: string;
  /** Bars stacked with the other series of the same stack. */
  stack?: string;
  /** Plots against the right-hand axis (formatted by y2Format). */
  right?: boolean;
}

export interface ChartFigureProps {
  name: string;
  title: string;
  /** One sentence: what the chart shows and its latest values (the figcaption). */
  summary: string;
  labels: string[];
  series: Series[];
  kind?: 'line' | 'bar';
  /** Formats axis ticks, tooltips and the table's cells. */
  format: (v: number | null) => string;
  yMin?: number;
  yMax?: number;
  /** A right-hand axis for series marked `right` (e.g. counts beside money). */
  y2Format?: (v: number | null) => string;
}

export function ChartFigure({ name, title, summary, labels, series, kind = 'line', format, yMin, yMax, y2Format }: ChartFigureProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return undefined;
    const datasets = series.map((s, i): ChartDataset<'line' | 'bar', (number | null)[]> => {
      const color = s.color ?? PALETTE[i % PALETTE.length]!;
      const yAxisID = s.right && y2Format ? 'y2' : 'y';
      if (kind === 'bar' && !s.target) {
        return { type: 'bar', label: s.label, data: s.data, backgroundColor: color, borderColor: color, stack: s.stack ?? `s${i}`, yAxisID };
      }
      return {
        type: 'line',
        yAxisID,
        label: s.label,
        data: s.data,
        borderColor: color,
        backgroundColor: color,
        borderWidth: 2,
        borderDash: s.target ? [6, 4] : [],
        pointRadius: s.target ? 0 : labels.length > 40 ? 0 : 2,
        spanGaps: true,
        tension: 0,
      };
    });
    const cfg: ChartConfiguration<'line' | 'bar', (number | null)[], string> = {
      type: kind,
      data: { labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: {
            stacked: kind === 'bar',
            ticks: {
              color: '#1f2937',
              maxRotation: 0,
              autoSkip: true,
              maxTicksLimit: 6,
              // Days as MM-DD on the axis (the year is in the tooltip and the table).
              callback(v) {
                const l = this.getLabelForValue(typeof v === 'number' ? v : Number(v));
                return /^\d{4}-\d{2}-\d{2}$/.test(l) ? l.slice(5) : l;
              },
            },
          },
          y: {
            ticks: { color: '#1f2937', precision: 0, callback: (v) => format(typeof v === 'number' ? v : Number(v)) },
            stacked: kind === 'bar',
            ...(yMin !== undefined ? { min: yMin } : {}),
            ...(yMax !== undefined ? { max: yMax } : {}),
          },
          ...(y2Format
            ? {
                y2: {
                  position: 'right' as const,
                  grid: { drawOnChartArea: false },
                  ticks: { color: '#1f2937', precision: 0, callback: (v: number | string) => y2Format(typeof v === 'number' ? v : Number(v)) },
                },
              }
            : {}),
        },
        plugins: {
          // Lines in the legend (a dashed one for a target) rather than filled boxes.
          legend: { labels: { color: '#1f2937', usePointStyle: true, pointStyle: 'line' } },
          tooltip: {
            callbacks: {
              label: (c) => `${c.dataset.label}: ${(c.dataset.yAxisID === 'y2' && y2Format ? y2Format : format)(c.parsed.y)}`,
            },
          },
        },
      },
    };
    const chart = new Chart(canvas.current, cfg);
    return () => chart.destroy();
  }, [labels, series, kind, format, yMin, yMax, y2Format]);
  return (
    <figure class="chart" data-chart={name}>
      <figcaption>
        <strong>{title}</strong> <span class="chart-summary">{summary}</span>
      </figcaption>
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={`${title}: ${summary}`} />
      </div>
      <details class="chart-data">
        <summary>Data table: {title}</summary>
        <TableWrap label={`Data table: ${title}`}>
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                {series.map((s) => (
                  <th scope="col" class="num" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {labels.map((l, i) => (
                <tr key={l}>
                  <th scope="row">{l}</th>
                  {series.map((s) => (
                    <td class="num" key={s.label}>
                      {(s.right && y2Format ? y2Format : format)(s.data[i] ?? null)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </figure>
  );
}
