import { recordFailureStep } from '@org/pipeline';
import { lambdaStep, noExtraPorts } from '../lambda-step';

export const handler = lambdaStep('RecordFailure', recordFailureStep, noExtraPorts);
