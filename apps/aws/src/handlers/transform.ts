import { transformStep } from '@org/pipeline';
import { lambdaStep, noExtraPorts } from '../lambda-step';

export const handler = lambdaStep('Transform', transformStep, noExtraPorts);
