import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

const s3Error = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

/** S3 mocked at the SDK boundary, backed by a Map, so handlers can run their real steps against it. */
export function fakeS3() {
  const objects = new Map<string, Uint8Array>();
  const s3 = mockClient(S3Client);
  const bytes = (body: unknown) => (typeof body === 'string' ? Buffer.from(body) : (body as Uint8Array));
  s3.on(PutObjectCommand).callsFake((input) => {
    const key = `${input.Bucket}/${input.Key}`;
    if (input.IfNoneMatch === '*' && objects.has(key)) throw s3Error('PreconditionFailed', 412);
    objects.set(key, bytes(input.Body));
    return {};
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    const body = objects.get(`${input.Bucket}/${input.Key}`);
    if (!body) throw s3Error('NoSuchKey', 404);
    return { Body: { transformToByteArray: async () => body } };
  });
  // As S3 answers the stack's roles, whose s3:ListBucket is limited by s3:prefix: a HeadObject on a missing key
  // is 403, not 404 (the request carries no prefix). A store that probes keys that way fails its first run.
  s3.on(HeadObjectCommand).callsFake((input) => {
    if (!objects.has(`${input.Bucket}/${input.Key}`)) throw s3Error('AccessDenied', 403);
    return {};
  });
  s3.on(DeleteObjectCommand).callsFake((input) => {
    objects.delete(`${input.Bucket}/${input.Key}`);
    return {};
  });
  s3.on(ListObjectsV2Command).callsFake((input) => {
    const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
    const keys = [...objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    const page = input.MaxKeys === undefined ? keys : keys.slice(0, input.MaxKeys);
    return { Contents: page.map((key) => ({ Key: key.slice(`${input.Bucket}/`.length) })), IsTruncated: page.length < keys.length };
  });
  return { s3, objects, text: (key: string) => Buffer.from(objects.get(key) ?? new Uint8Array()).toString('utf8') };
}
