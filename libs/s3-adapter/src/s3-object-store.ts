import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, PipelineError, TransientError, type ObjectStore } from '@org/pipeline';

export interface S3ObjectStoreSettings {
  bucket: string;
  /** Every key is stored under this prefix, e.g. `rewards/` (default none). */
  prefix?: string;
  /** Passed through on every write, e.g. 'aws:kms' with `kmsKeyId`. */
  serverSideEncryption?: ServerSideEncryption;
  kmsKeyId?: string;
  /** Objects larger than this go up as a multipart upload (default 8 MiB). */
  multipartThresholdBytes?: number;
  /** Part size of multipart uploads (default 8 MiB; S3's minimum is 5 MiB). */
  partSizeBytes?: number;
}

/** S3 refused access to a bucket or key: says which, so the IAM policy can be fixed. */
export class S3AccessDeniedError extends PipelineError {
  constructor(
    readonly bucket: string,
    readonly key: string,
    operation: string,
  ) {
    super(`Access denied to ${operation} s3://${bucket}/${key}; check the IAM policy of the role running the pipeline.`);
  }
}

const MIB = 1024 * 1024;

/**
 * ListObjectsV2 answers at most 1,000 keys a page
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html, MaxKeys), so a list follows the pages.
 * Deletes are single DeleteObject calls (no DeleteObjects batch, and so no 1,000-key batch limit, is used).
 */
export const S3_KEYS_PER_LIST_PAGE = 1000;

/**
 * The pipeline's ObjectStore on S3. Whole-object writes (a PUT, or a multipart upload that S3 makes visible
 * only once complete), listing through every page, and S3's errors mapped to the port's: NoSuchKey to
 * ObjectNotFoundError, throttling and 5xx to TransientError, AccessDenied to S3AccessDeniedError.
 */
export class S3ObjectStore implements ObjectStore {
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly settings: S3ObjectStoreSettings,
  ) {
    if (!settings.bucket) throw new PipelineError('S3ObjectStore needs a bucket name.');
    this.prefix = settings.prefix ? settings.prefix.replace(/\/?$/, '/') : '';
  }

  locate(key: string): string {
    return `s3://${this.settings.bucket}/${this.prefix}${key}`;
  }

  async put(key: string, body: Uint8Array | string, options: { contentType?: string } = {}): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const params = {
      Bucket: this.settings.bucket,
      Key: this.prefix + key,
      Body: bytes,
      ContentType: options.contentType,
      ...this.encryption(),
    };
    await this.call('write', key, async () => {
      if (bytes.byteLength > (this.settings.multipartThresholdBytes ?? 8 * MIB)) {
        await new Upload({ client: this.client, params, partSize: this.settings.partSizeBytes ?? 8 * MIB, queueSize: 4 }).done();
      } else {
        await this.client.send(new PutObjectCommand(params));
      }
    });
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    try {
      await this.call('write', key, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.settings.bucket,
            Key: this.prefix + key,
            Body: body,
            IfNoneMatch: '*',
            ...this.encryption(),
          }),
        ),
      );
      return true;
    } catch (error) {
      const status = (error as { cause?: S3ServiceException }).cause?.$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    return this.call('read', key, async () => {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.prefix + key }));
      return (await answer.Body?.transformToByteArray()) ?? new Uint8Array();
    });
  }

  /** The object as a stream, for large raw files. */
  async getStream(key: string): Promise<Readable> {
    return this.call('read', key, async () => {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.prefix + key }));
      return answer.Body as Readable;
    });
  }

  /**
   * A listing of the key itself, not a HeadObject: S3 answers a HeadObject on a missing key with 404 only to a
   * caller allowed s3:ListBucket on the whole bucket, and with 403 to the pipeline's roles, whose ListBucket is
   * limited by s3:prefix (a HeadObject carries no prefix). S3 lists in key order, so the key itself, if there,
   * comes first among the keys it prefixes.
   */
  async exists(key: string): Promise<boolean> {
    const full = this.prefix + key;
    const page = await this.call('read', key, () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: full, MaxKeys: 1 })),
    );
    return page.Contents?.[0]?.Key === full;
  }

  /** Every key under the prefix, page after page: a ListObjectsV2 page holds at most `S3_KEYS_PER_LIST_PAGE`. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    await this.call('list', prefix, async () => {
      for await (const page of paginateListObjectsV2(
        { client: this.client, pageSize: S3_KEYS_PER_LIST_PAGE },
        { Bucket: this.settings.bucket, Prefix: this.prefix + prefix },
      )) {
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
      }
    });
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.prefix + key })),
    );
  }

  private encryption() {
    return {
      ...(this.settings.serverSideEncryption ? { ServerSideEncryption: this.settings.serverSideEncryption } : {}),
      ...(this.settings.kmsKeyId ? { SSEKMSKeyId: this.settings.kmsKeyId } : {}),
    };
  }

  private async call<T>(operation: string, key: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw mapS3Error(error, this.settings.bucket, this.prefix + key, operation);
    }
  }
}

/** S3's errors as the port's typed errors. */
export function mapS3Error(error: unknown, bucket: string, key: string, operation: string): Error {
  if (!(error instanceof S3ServiceException)) return error as Error;
  const status = error.$metadata?.httpStatusCode ?? 0;
  if (error.name === 'NoSuchKey' || error.name === 'NotFound' || status === 404) return new ObjectNotFoundError(key);
  if (error.name === 'AccessDenied' || status === 403) return new S3AccessDeniedError(bucket, key, operation);
  if (error.name === 'SlowDown' || error.name === 'ThrottlingException' || status === 429 || status >= 500) {
    return new TransientError(`S3 ${operation} of s3://${bucket}/${key} was throttled or failed (${error.name}); it will be retried.`, {
      cause: error,
    });
  }
  return new PipelineError(`S3 ${operation} of s3://${bucket}/${key} failed: ${error.name}: ${error.message}`, { cause: error });
}
