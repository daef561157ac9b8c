import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { S3ObjectStore } from './s3-object-store';

// s3rver ignores If-None-Match, so the conditional write is checked at the SDK boundary.
describe('S3ObjectStore.putIfAbsent', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it('sends a conditional PUT and reports whether it created the object', async () => {
    const store = new S3ObjectStore(new S3Client({ region: 'eu-west-2' }), { bucket: 'data', prefix: 'p' });
    s3.on(PutObjectCommand).resolves({});
    expect(await store.putIfAbsent('state/lock.json', '{}')).toBe(true);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'data', Key: 'p/state/lock.json', IfNoneMatch: '*' });

    s3.reset();
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: { httpStatusCode: 412 },
        message: 'At least one of the pre-conditions you specified did not hold',
      }),
    );
    expect(await store.putIfAbsent('state/lock.json', '{}')).toBe(false);
  });
});
