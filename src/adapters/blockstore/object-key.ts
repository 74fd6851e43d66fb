import type { BlockID, OrganizationID } from "../../domain/ids.js";

/**
 * `<organization_id>/<block id as a hyphenated UUID>` (e.g. `CoolOrg/3b917792-35ac-409f-9af1-fe6de8d2b905`): the name
 * Parsec gives a block's object in an S3 bucket or a Swift container, so that an existing Parsec bucket or container
 * is served as it is.
 */
export const blockObjectKey = (organizationId: OrganizationID, blockId: BlockID): string =>
  `${organizationId}/${blockId.slice(0, 8)}-${blockId.slice(8, 12)}-${blockId.slice(12, 16)}-${blockId.slice(16, 20)}-${blockId.slice(20)}`;

/**
 * Largest object body an S3 or Swift block store reads back, in bytes (4 MiB): blocks are at most 512 KiB and every
 * request frame is far below this; a larger answer (a broken or hostile server, an object planted under a block's
 * key) fails the read instead of filling the memory.
 */
export const MAX_OBJECT_BYTES = 4 * 1024 * 1024;

/** `url` without user information, query or fragment (which may hold credentials), for messages. */
export const displayUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    const hidden = parsed.search !== "" || parsed.hash !== "";
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    parsed.hash = "";
    return hidden ? `${parsed.toString()}?…` : parsed.toString();
  } catch {
    return "an invalid URL";
  }
};
