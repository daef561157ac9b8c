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
        labelFontSize: 14,
        titleFontSize: 14,
        labelOverlap: 'greedy',
        labelSeparation: 3,
      },
      legend: { labelFontSize: 14, titleFontSize: 14, orient: 'bottom' },
      range: { category: ['#4c6ef5', '#12b886', '#fab005', '#fa5252', '#7950f2', '#15aabf', '#e64980', '#82c91e'] },
      ...(spec as { config?: object }).config,
    },
  } as TopLevelSpec;
  const view = new View(parse(compile(themed).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return withHoverValues(responsive(svg));
}

/**
 * Each drawn value (a bar, a point: Vega's `graphics-symbol` items, which carry their fields and values in
 * `aria-label`) gets a `<title>`, the tooltip a browser shows on hover, with no script in the page.
 */
export function withHoverValues(svg: string): string {
  return svg.replace(/<(path|rect|circle)(\s[^>]*?)\/>/g, (element, tag: string, attributes: string) => {
    if (!attributes.includes('role="graphics-symbol"')) return element;
    const label = /\saria-label="([^"]*)"/.exec(attributes)?.[1];
    return label ? `<${tag}${attributes}><title>${label}</title></${tag}>` : element;
  });
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
