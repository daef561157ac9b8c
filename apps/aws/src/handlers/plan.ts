import { planStep } from '@org/pipeline';
import { lambdaStep, noExtraPorts } from '../lambda-step';

export const handler = lambdaStep('Plan', planStep, noExtraPorts);
