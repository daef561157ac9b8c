import { recordFailureStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';

export const handler = lambdaStep('RecordFailure', recordFailureStep);
