export { inferMapping, normalizeColumnName } from './default-mapping.js';
export { convertValue, parseTime } from './field-types.js';
export { type ImportOptions, type ImportProgress, type ImportReport, importFile } from './import-runner.js';
export { formatFromFileName } from './row-source.js';
