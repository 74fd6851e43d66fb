-- The Parsec data model: organizations, users and devices, invitations, messages, realms, vlobs and blocks.
--
-- Conventions:
-- * every table has an internal `_id bigint` identity key; public identifiers are unique per organization;
-- * times are `bigint` microseconds since 1970-01-01T00:00:00Z (Parsec's resolution, exact in JavaScript up to 2255),
--   except the server's own bookkeeping times (`timestamptz`, from PostgreSQL's clock);
-- * UUID identifiers (realms, vlobs, blocks, invitation tokens) are `uuid`;
-- * device and user ids that name authors or certifiers are kept as text: the certificates they come from are
--   verified by the server before anything is stored;
-- * every uniqueness rule of the domain is a constraint; creations are `INSERT … ON CONFLICT DO NOTHING`.
-- Encrypted blobs are stored without compression (`STORAGE EXTERNAL`): they do not compress.


-------------------------------------------------------------------------------------------------------------------
-- Organizations
-------------------------------------------------------------------------------------------------------------------

CREATE TABLE organization (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id text NOT NULL UNIQUE,
    -- Token expected by `organization_bootstrap` (empty for a spontaneous bootstrap).
    bootstrap_token text NOT NULL,
    is_expired boolean NOT NULL,
    created_on bigint NOT NULL,
    -- Both NULL until the bootstrap, both set by it.
    bootstrapped_on bigint,
    root_verify_key bytea,
    user_profile_outsider_allowed boolean NOT NULL,
    -- NULL: no limit.
    active_users_limit bigint CHECK (active_users_limit >= 0),
    -- Seconds.
    minimum_archiving_period bigint NOT NULL,
    -- NULL for an organization without sequester.
    sequester_authority_certificate bytea,
    sequester_authority_verify_key_der bytea,
    CHECK ((bootstrapped_on IS NULL) = (root_verify_key IS NULL)),
    CHECK ((sequester_authority_certificate IS NULL) = (sequester_authority_verify_key_der IS NULL))
);


-------------------------------------------------------------------------------------------------------------------
-- Users and devices
-------------------------------------------------------------------------------------------------------------------

CREATE TABLE user_ (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization bigint NOT NULL REFERENCES organization (_id),
    user_id text NOT NULL,
    -- Human handle; both NULL for a user without one.
    email text,
    label text,
    profile text NOT NULL CHECK (profile IN ('ADMIN', 'STANDARD', 'OUTSIDER')),
    -- X25519 public key of the user certificate.
    public_key bytea NOT NULL,
    user_certificate bytea NOT NULL,
    redacted_user_certificate bytea NOT NULL,
    -- Device id of the certifier; NULL for the root key (bootstrap).
    user_certifier text,
    created_on bigint NOT NULL,
    -- All three NULL until revoked.
    revoked_on bigint,
    revoked_user_certificate bytea,
    revoked_user_certifier text,
    -- Number of messages in the user's inbox: the counter `message.index` is taken from, under this row's lock.
    message_count bigint NOT NULL DEFAULT 0,
    -- `human_find`: label, email and user id lower-cased by the server (JavaScript `toLowerCase`).
    search_label text,
    search_email text,
    search_user_id text NOT NULL,
    UNIQUE (organization, user_id),
    CHECK ((email IS NULL) = (label IS NULL))
);

-- A user without any revocation owns its email: no two such users share one (the store's last word; the use case
-- also refuses emails of users revoked in the future, under a per-email lock).
CREATE UNIQUE INDEX user_email_not_revoked ON user_ (organization, email) WHERE revoked_on IS NULL AND email IS NOT NULL;
CREATE INDEX user_email ON user_ (organization, email) WHERE email IS NOT NULL;

CREATE TABLE device (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization bigint NOT NULL REFERENCES organization (_id),
    user_ bigint NOT NULL REFERENCES user_ (_id),
    device_id text NOT NULL,
    device_label text,
    -- Ed25519 verify key of the device certificate.
    verify_key bytea NOT NULL,
    device_certificate bytea NOT NULL,
    redacted_device_certificate bytea NOT NULL,
    -- Device id of the certifier; NULL for the root key.
    device_certifier text,
    created_on bigint NOT NULL,
    UNIQUE (organization, device_id)
);

CREATE INDEX device_user ON device (user_, _id);


-------------------------------------------------------------------------------------------------------------------
-- Invitations and claimer presence
-------------------------------------------------------------------------------------------------------------------

CREATE TABLE invitation (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization bigint NOT NULL REFERENCES organization (_id),
    token uuid NOT NULL,
    type text NOT NULL CHECK (type IN ('USER', 'DEVICE', 'SHAMIR_RECOVERY')),
    greeter_user_id text NOT NULL,
    -- The greeter's human handle when the invitation was created (both NULL: none).
    greeter_email text,
    greeter_label text,
    -- USER invitations only.
    claimer_email text,
    created_on bigint NOT NULL,
    -- Both NULL until deleted.
    deleted_on bigint,
    deleted_reason text CHECK (deleted_reason IN ('FINISHED', 'CANCELLED', 'ROTTEN')),
    conduit_state text NOT NULL DEFAULT '1_WAIT_PEERS' CHECK (
        conduit_state IN ('1_WAIT_PEERS', '2_1_CLAIMER_HASHED_NONCE', '2_2_GREETER_NONCE', '2_3_CLAIMER_NONCE', '3_1_CLAIMER_TRUST', '3_2_GREETER_TRUST', '4_COMMUNICATE')
    ),
    conduit_greeter_payload bytea,
    conduit_claimer_payload bytea,
    -- Moves of the conduit (completed exchanges and resets), and the last completed exchange (all three NULL
    -- initially and after a reset): see src/domain/invite/conduit.ts.
    conduit_generation bigint NOT NULL DEFAULT 0,
    conduit_last_state text CHECK (
        conduit_last_state IN ('1_WAIT_PEERS', '2_1_CLAIMER_HASHED_NONCE', '2_2_GREETER_NONCE', '2_3_CLAIMER_NONCE', '3_1_CLAIMER_TRUST', '3_2_GREETER_TRUST', '4_COMMUNICATE')
    ),
    conduit_last_greeter_payload bytea,
    conduit_last_claimer_payload bytea,
    UNIQUE (organization, token),
    CHECK ((deleted_on IS NULL) = (deleted_reason IS NULL))
);

-- `invite_new` reuses the greeter's invitation not deleted for the same claimer: at most one exists.
CREATE UNIQUE INDEX invitation_active_per_claimer ON invitation (organization, greeter_user_id, type, coalesce(claimer_email, '')) WHERE deleted_on IS NULL;

-- Every server process sharing this database, with its heartbeat (PostgreSQL's clock). A process not seen for a while
-- is dead: its claimer presence no longer counts and is eventually deleted.
CREATE TABLE server_process (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    process_id text NOT NULL UNIQUE,
    started_on timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now()
);

-- One row per open claimer connection: an invitation is READY while one of a live process exists.
CREATE TABLE invitation_presence (
    invitation bigint NOT NULL REFERENCES invitation (_id),
    process bigint NOT NULL REFERENCES server_process (_id) ON DELETE CASCADE,
    connection_id text NOT NULL,
    PRIMARY KEY (invitation, process, connection_id)
);

CREATE INDEX invitation_presence_process ON invitation_presence (process);


-------------------------------------------------------------------------------------------------------------------
-- Messages
-------------------------------------------------------------------------------------------------------------------

CREATE TABLE message (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient bigint NOT NULL REFERENCES user_ (_id),
    -- 1-based position in the recipient's inbox.
    index bigint NOT NULL,
    sender text NOT NULL,
    timestamp bigint NOT NULL,
    body bytea NOT NULL,
    UNIQUE (recipient, index)
);

ALTER TABLE message ALTER COLUMN body SET STORAGE EXTERNAL;


-------------------------------------------------------------------------------------------------------------------
-- Realms
-------------------------------------------------------------------------------------------------------------------

CREATE TABLE realm (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization bigint NOT NULL REFERENCES organization (_id),
    realm_id uuid NOT NULL,
    created_on bigint NOT NULL,
    encryption_revision bigint NOT NULL,
    -- All three NULL when not in maintenance.
    maintenance_type text CHECK (maintenance_type IN ('REENCRYPTION', 'GARBAGE_COLLECTION')),
    maintenance_started_by text,
    maintenance_started_on bigint,
    -- Number of vlob writes: incremented under this row's lock by each write, so checkpoints commit in order.
    checkpoint bigint NOT NULL DEFAULT 0,
    -- Revision a re-encryption of the vlobs is collecting blobs for (the vlob store's state); NULL when none.
    reencryption_revision bigint,
    UNIQUE (organization, realm_id),
    CHECK ((maintenance_type IS NULL) = (maintenance_started_on IS NULL))
);

-- Every role certificate, in arrival order.
CREATE TABLE realm_role (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    realm bigint NOT NULL REFERENCES realm (_id),
    user_id text NOT NULL,
    -- NULL: the role was removed.
    role text CHECK (role IN ('OWNER', 'MANAGER', 'CONTRIBUTOR', 'READER')),
    certificate bytea NOT NULL,
    certified_by text,
    certified_on bigint NOT NULL
);

CREATE INDEX realm_role_realm ON realm_role (realm, _id);

-- The last role certificate of each user of each realm (what the access checks read).
CREATE TABLE realm_member (
    realm bigint NOT NULL REFERENCES realm (_id),
    user_id text NOT NULL,
    organization bigint NOT NULL REFERENCES organization (_id),
    -- NULL: the role was removed.
    role text CHECK (role IN ('OWNER', 'MANAGER', 'CONTRIBUTOR', 'READER')),
    granted_on bigint NOT NULL,
    PRIMARY KEY (realm, user_id)
);

CREATE INDEX realm_member_user ON realm_member (organization, user_id) WHERE role IS NOT NULL;


-------------------------------------------------------------------------------------------------------------------
-- Vlobs
-------------------------------------------------------------------------------------------------------------------

CREATE TABLE vlob (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization bigint NOT NULL REFERENCES organization (_id),
    realm bigint NOT NULL REFERENCES realm (_id),
    vlob_id uuid NOT NULL,
    encryption_revision bigint NOT NULL,
    -- The last version and its timestamp (kept with each write, so that a writer reads them on the row it locks).
    head_version bigint NOT NULL,
    head_timestamp bigint NOT NULL,
    UNIQUE (organization, vlob_id)
);

CREATE INDEX vlob_realm ON vlob (realm, _id);

-- One row per version.
CREATE TABLE vlob_atom (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vlob bigint NOT NULL REFERENCES vlob (_id),
    realm bigint NOT NULL REFERENCES realm (_id),
    version bigint NOT NULL CHECK (version >= 1),
    blob bytea NOT NULL,
    size bigint NOT NULL,
    author text NOT NULL,
    -- The author's user id (causality checks of role changes).
    author_user_id text NOT NULL,
    -- The client's timestamp of the write.
    timestamp bigint NOT NULL,
    UNIQUE (vlob, version)
);

CREATE INDEX vlob_atom_author ON vlob_atom (realm, author_user_id, timestamp);

ALTER TABLE vlob_atom ALTER COLUMN blob SET STORAGE EXTERNAL;

-- The realm's change log: write number `index` (the checkpoint it brought the realm to) wrote `version` of `vlob`.
CREATE TABLE realm_vlob_update (
    realm bigint NOT NULL REFERENCES realm (_id),
    index bigint NOT NULL,
    vlob bigint NOT NULL REFERENCES vlob (_id),
    version bigint NOT NULL,
    PRIMARY KEY (realm, index)
);

-- Re-encrypted blobs collected during a re-encryption maintenance (NULL until the client sent one); they replace
-- the atoms' blobs when the maintenance finishes.
CREATE TABLE vlob_reencryption (
    realm bigint NOT NULL REFERENCES realm (_id),
    encryption_revision bigint NOT NULL,
    atom bigint NOT NULL REFERENCES vlob_atom (_id),
    blob bytea,
    PRIMARY KEY (realm, encryption_revision, atom)
);

ALTER TABLE vlob_reencryption ALTER COLUMN blob SET STORAGE EXTERNAL;


-------------------------------------------------------------------------------------------------------------------
-- Blocks (metadata; payloads are in a block store)
-------------------------------------------------------------------------------------------------------------------

CREATE TABLE block (
    _id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization bigint NOT NULL REFERENCES organization (_id),
    block_id uuid NOT NULL,
    -- The foreign key share-locks the realm row while a block is created.
    realm bigint NOT NULL REFERENCES realm (_id),
    author text NOT NULL,
    size bigint NOT NULL,
    created_on bigint NOT NULL,
    UNIQUE (organization, block_id)
);

CREATE INDEX block_realm ON block (realm);
