import type { BlockID, OrganizationID } from "../../domain/ids.js";

/**
 * `<organization_id>/<block id as a hyphenated UUID>` (e.g. `CoolOrg/3b917792-35ac-409f-9af1-fe6de8d2b905`): the name
 * Parsec gives a block's object in an S3 bucket or a Swift container, so that an existing Parsec bucket or container
 * is served as it is.
 */
export const blockObjectKey = (organizationId: OrganizationID, blockId: BlockID): string =>
  `${organizationId}/${blockId.slice(0, 8)}-${blockId.slice(8, 12)}-${blockId.slice(12, 16)}-${blockId.slice(16, 20)}-${blockId.slice(20)}`;
