import { transformStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';

export const handler = lambdaStep('Transform', transformStep);
