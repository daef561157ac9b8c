import { commitStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';

export const handler = lambdaStep('Commit', commitStep);
