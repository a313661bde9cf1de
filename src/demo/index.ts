export { type DemoOptions, generateDemo } from './demo-generator.js';
export { DEFAULT_DEMO, DEMO_SOURCES, type DemoSummary, loadDemoWorkspace } from './demo-loader.js';
export { DEMO_SEGMENTS } from './demo-segments.js';
