// Visualization, platform-neutral: gray images, filter / feature-map grids, PNG, training charts (SVG and PNG).
export * from './image.js';
export * from './filters.js';
export * from './png.js';
export * from './chart.js';
export * from './chart-svg.js';
export * from './chart-raster.js';
