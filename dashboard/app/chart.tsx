/**
 * A bar chart (Chart.js) with its text alternative: the canvas is an image with a summary for
 * screen readers, and the same numbers are one click away as a table.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import { type ChartData, chartTable } from './format.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** Okabe–Ito: told apart with the common kinds of colour blindness. */
export const SERIES_COLOURS = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
];

/**
 * The fill of series `index`: the palette's colours first, then the same colours hatched (a second
 * round) and cross-hatched (a third), so the built-in catalog's dozen data classes never share a
 * look in one chart, and the legend shows the pattern too.
 */
export const seriesFill = (index: number): string | CanvasPattern => {
  const colour = SERIES_COLOURS[index % SERIES_COLOURS.length] ?? '#0072B2';
  const round = Math.floor(index / SERIES_COLOURS.length);
  if (round === 0) return colour;
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const context = tile.getContext('2d');
  if (context === null) return colour;
  context.fillStyle = colour;
  context.fillRect(0, 0, 8, 8);
  context.strokeStyle = '#ffffff';
  context.lineWidth = 2;
  context.beginPath();
  context.moveTo(0, 8);
  context.lineTo(8, 0);
  if (round > 1) {
    context.moveTo(0, 0);
    context.lineTo(8, 8);
  }
  context.stroke();
  return context.createPattern(tile, 'repeat') ?? colour;
};

export interface BarChartProps {
  readonly id: string;
  readonly title: string;
  readonly data: ChartData;
  /** One colour per bar (single series), e.g. overdue in red; else one per series. */
  readonly barColours?: readonly string[];
  readonly stacked?: boolean;
  readonly yLabel: string;
}

const summaryOf = (title: string, data: ChartData): string => {
  const parts = data.labels.map((label, index) => {
    const values = data.series.map((series) =>
      data.series.length === 1
        ? String(series.values[index] ?? 0)
        : `${series.label} ${series.values[index] ?? 0}`,
    );
    return `${label}: ${values.join(', ')}`;
  });
  return `${title}. ${parts.join('; ')}.`;
};

export const BarChart = ({ id, title, data, barColours, stacked = false, yLabel }: BarChartProps) => {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current === null) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: [...data.labels],
        datasets: data.series.map((series, index) => ({
          label: series.label,
          data: [...series.values],
          backgroundColor:
            barColours !== undefined && data.series.length === 1 ? [...barColours] : seriesFill(index),
          borderWidth: 0,
        })),
      },
      options: {
        // Numbers appear at once: nothing moves for people who asked for less motion, nor in tests.
        animation: false,
        maintainAspectRatio: false,
        responsive: true,
        plugins: { legend: { display: data.series.length > 1, position: 'bottom' } },
        scales: {
          x: { stacked, grid: { display: false } },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: yLabel } },
        },
      },
    });
    return () => chart.destroy();
  }, [data, barColours, stacked, yLabel]);
  const table = chartTable(data);
  return (
    <figure class="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`} class="chart-title">
        {title}
      </figcaption>
      <div class="chart-canvas">
        <canvas id={id} ref={canvas} role="img" aria-label={summaryOf(title, data)} />
      </div>
      <details>
        <summary>Show as a table</summary>
        <table class="data">
          <caption class="visually-hidden">{title}</caption>
          <thead>
            <tr>
              {table.header.map((cell, index) => (
                <th scope="col" key={`h${index}`}>
                  {index === 0 ? <span class="visually-hidden">Label</span> : cell}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row) => (
              <tr key={row[0]}>
                {row.map((cell, index) =>
                  index === 0 ? (
                    <th scope="row" key="label">
                      {cell}
                    </th>
                  ) : (
                    <td class="num" key={`c${index}`}>
                      {cell}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
};
