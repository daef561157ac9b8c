export {
  ALL_VIEWS,
  DASHBOARD_VIEWS,
  REPORTING_VIEWS,
  RETIRED_VIEWS,
  viewStatements,
  type DashboardView,
  type ViewOptions,
  type ViewSql,
} from './dashboard-views';
export { DashboardError, ViewSchemaError, LookmlOptionError } from './dashboard-errors';
export { loadDashboardData, type DashboardData, type QueryRows } from './dashboard-data';
export { renderDashboardHtml, formatMoney, formatPlu, type DashboardOptions, type DataHealthView } from './dashboard-html';
export { chartSvg } from './chart-svg';
export { lookmlProject, LOOKML_DATA_TESTS, MONEY_COLUMNS, type LookmlOptions } from './lookml';
export { DATA_HEALTH_TABLES, dataHealthTableStatements, dataHealthRowStatements } from './data-health-sql';
