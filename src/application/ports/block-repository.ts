/**
 * Persistence of block metadata (which realm a block belongs to, its size, author and creation time);
 * the payloads themselves live in a {@link BlockStore}. Shaped by the block use cases (src/application/block).
 */
export interface BlockRepository {}
