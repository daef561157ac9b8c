export { S3ObjectStore, S3AccessDeniedError, mapS3Error, type S3ObjectStoreSettings } from './s3-object-store';
