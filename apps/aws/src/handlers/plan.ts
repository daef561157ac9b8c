import { planStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';
import { plutusSourcePort } from '../plutus-source';

// The source only for a backfill: the months before its first transaction are skipped.
export const handler = lambdaStep('Plan', planStep, plutusSourcePort);
