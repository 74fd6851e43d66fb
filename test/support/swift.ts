import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { inject } from "vitest";

/**
 * The run's OpenStack Swift (started by `swift-global-setup.ts`): tempauth accounts and containers of its own for
 * each test file. Account `test`, user `tester`, password `testing` (`.admin`); the same account answers S3 through
 * s3api with access key `test:tester` and secret `testing`.
 */
export interface TestSwift {
  /** `http://127.0.0.1:<port>`: the proxy (Swift v1 under `/v1`, S3 at the root). */
  readonly proxyUrl: string;
  /** `<proxyUrl>/auth/v1.0`. */
  readonly authUrl: string;
  readonly tenant: string;
  readonly user: string;
  readonly password: string;
  /** S3 credentials of the same account. */
  readonly s3: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Creates a container (an S3 bucket too) with a fresh name starting with `prefix`, and returns its name. */
  createContainer(prefix: string): Promise<string>;
  /** Forgets every token tempauth gave (flushes its memcached): the next request with an old token is answered 401. */
  revokeTokens(): Promise<void>;
  /** Authenticated Swift request on `<storage url>/<path>` (e.g. `parsec/Org/<uuid>`), for checks behind the server's back. */
  request(method: string, path: string, body?: Buffer): Promise<Response>;
}

/** The run's Swift, or null (with the reason logged once by the global setup) when it is not installed. */
export const testSwift = (): TestSwift | null => {
  const provided = inject("swift");
  if (!("proxyUrl" in provided)) return null;
  const { proxyUrl, memcachePort } = provided;
  const authUrl = `${proxyUrl}/auth/v1.0`;
  let session: Promise<{ storageUrl: string; token: string }> | null = null;
  const login = () =>
    (session ??= fetch(authUrl, { headers: { "X-Auth-User": "test:tester", "X-Auth-Key": "testing" } }).then((answer) => {
      if (answer.status !== 200) throw new Error(`Swift tempauth answered ${answer.status}`);
      return { storageUrl: answer.headers.get("x-storage-url")!, token: answer.headers.get("x-auth-token")! };
    }));
  const request = async (method: string, path: string, body?: Buffer): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const current = login();
      const { storageUrl, token } = await current;
      const answer = await fetch(`${storageUrl}/${path}`, { method, headers: { "X-Auth-Token": token }, ...(body && { body }) });
      // Tokens are revoked by tests (revokeTokens): log in again once.
      if (answer.status !== 401 || attempt > 0) return answer;
      if (session === current) session = null;
    }
  };
  return {
    proxyUrl,
    authUrl,
    tenant: "test",
    user: "tester",
    password: "testing",
    s3: { accessKeyId: "test:tester", secretAccessKey: "testing" },
    request,
    revokeTokens: () =>
      new Promise<void>((done, fail) => {
        const socket = connect(memcachePort, "127.0.0.1", () => socket.write("flush_all\r\n"));
        socket.once("data", (answer) => {
          socket.end();
          // memcached also drops what is stored within the second of the flush: wait for the next one.
          if (answer.toString().startsWith("OK")) setTimeout(done, 1_100);
          else fail(new Error(`memcached answered ${answer.toString().trim()}`));
        });
        socket.once("error", fail);
      }),
    createContainer: async (prefix) => {
      const name = `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
      const answer = await request("PUT", name);
      if (answer.status !== 201 && answer.status !== 202) throw new Error(`creating container ${name}: HTTP ${answer.status}`);
      return name;
    },
  };
};
