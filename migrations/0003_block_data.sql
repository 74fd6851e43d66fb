-- Block payloads of the POSTGRESQL block store (`--blockstore=POSTGRESQL`). Apart from the other tables on purpose:
-- the block store knows only organization ids and block ids, like an object store's keys.
CREATE TABLE block_data (
    organization_id text NOT NULL,
    block_id uuid NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (organization_id, block_id)
);

-- Payloads are encrypted: storing them uncompressed saves the CPU of a compression attempt that cannot succeed.
ALTER TABLE block_data ALTER COLUMN data SET STORAGE EXTERNAL;
