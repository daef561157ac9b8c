export { DASHBOARD_VIEWS, RETIRED_VIEWS, viewStatements, ViewSchemaError, type DashboardView } from './dashboard-views';
export { loadDashboardData, type DashboardData, type QueryRows } from './dashboard-data';
export { renderDashboardHtml, formatMoney, formatPlu, type DashboardOptions, type DataHealthView } from './dashboard-html';
export { chartSvg } from './chart-svg';
