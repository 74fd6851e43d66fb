import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/** A local S3 server (`s3rver`) on 127.0.0.1, objects in a fresh temporary folder; it does not check credentials. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>`. */
  readonly endpointUrl: string;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

/** Starts a {@link LocalS3} with `buckets` created. */
export const startLocalS3 = async (buckets: readonly string[]): Promise<LocalS3> => {
  const directory = mkdtempSync(join(tmpdir(), "parsec-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  return {
    endpointUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
};
