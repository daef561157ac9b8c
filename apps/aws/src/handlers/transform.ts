import { transformStep } from '@org/pipeline';
import { REDSHIFT_DIALECT } from '@org/sql-dialect';
import { lambdaStep } from '../lambda-step';

// Text longer than Redshift's VARCHAR is quarantined here, with its reason, rather than failing the whole load.
export const handler = lambdaStep('Transform', transformStep, async () => ({ maxTextBytes: REDSHIFT_DIALECT.maxTextBytes }));
