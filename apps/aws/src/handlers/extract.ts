import { extractStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';
import { plutusSourcePort } from '../plutus-source';

export const handler = lambdaStep('Extract', extractStep, plutusSourcePort);
