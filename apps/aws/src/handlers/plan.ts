import { planStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';

export const handler = lambdaStep('Plan', planStep);
