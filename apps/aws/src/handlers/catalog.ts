import { catalogStep } from '@org/pipeline';
import { glueCatalogPort } from '../glue-catalog-port';
import { lambdaStep } from '../lambda-step';

export const handler = lambdaStep('Catalog', catalogStep, glueCatalogPort);
