import { commitStep } from '@org/pipeline';
import { lambdaStep, noExtraPorts } from '../lambda-step';

export const handler = lambdaStep('Commit', commitStep, noExtraPorts);
