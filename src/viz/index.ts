// Visualization, platform-neutral: gray images, filter / feature-map grids, PNG, chart specs.
// Rendering charts to SVG/PNG in Node: './accuracy-plot-node.js' (vega + resvg).
export * from './image.js';
export * from './filters.js';
export * from './png.js';
export * from './accuracy-plot.js';
