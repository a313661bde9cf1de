export type { DemoOptions } from './demo-generator.js';
export { DEFAULT_DEMO, DEMO_SOURCES, type DemoSummary, loadDemoWorkspace } from './demo-loader.js';
