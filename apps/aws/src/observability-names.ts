/** The service name of every log line and metric (Powertools' `service` dimension). */
export const SERVICE_NAME = 'rewards-pipeline';
/** The one CloudWatch namespace of the pipeline's metrics (EMF lines in each function's log). */
export const METRICS_NAMESPACE = 'RewardsPipeline';
