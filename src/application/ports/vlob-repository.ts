/**
 * Persistence of vlobs (versioned encrypted metadata) and of each realm's change checkpoints.
 * Shaped by the vlob use cases (src/application/vlob).
 */
export interface VlobRepository {}
