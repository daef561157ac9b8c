// `@org/s3-adapter/testing`: a real S3-compatible server for tests of code that uses S3ObjectStore.
export { startS3rver, type RunningS3rver } from './s3rver-process';
