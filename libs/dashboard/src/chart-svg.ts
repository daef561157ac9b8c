import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/**
 * A Vega-Lite spec rendered to an SVG string in Node (no browser, no network). The fixed width and height
 * become a viewBox, so the chart scales to its container at phone and desktop widths.
 */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const themed = {
    ...spec,
    config: {
      font: FONT,
      view: { stroke: null },
      axis: {
        labelColor: '#3b4252',
        titleColor: '#3b4252',
        gridColor: '#e5e9f0',
        domainColor: '#c0c8d6',
        labelFontSize: 11,
        titleFontSize: 12,
        labelOverlap: 'greedy',
        labelSeparation: 3,
      },
      legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
      range: { category: ['#4c6ef5', '#12b886', '#fab005', '#fa5252', '#7950f2', '#15aabf', '#e64980', '#82c91e'] },
      ...(spec as { config?: object }).config,
    },
  } as TopLevelSpec;
  const view = new View(parse(compile(themed).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return responsive(svg);
}

function responsive(svg: string): string {
  const width = /<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1];
  const height = /<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1];
  if (!width || !height) return svg;
  return svg.replace(
    /<svg([^>]*?)\swidth="[\d.]+"\sheight="[\d.]+"/,
    `<svg$1 viewBox="0 0 ${width} ${height}" preserveAspectRatio="xMidYMid meet"`,
  );
}
