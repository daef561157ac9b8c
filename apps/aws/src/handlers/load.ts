import { loadStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';
import { redshiftWarehousePort } from '../redshift-warehouse-port';

export const handler = lambdaStep('Load', loadStep, redshiftWarehousePort);
