import type { BackendAddr } from "../domain/backend-addr.js";
import type { OrganizationDefaults } from "../domain/organization/index.js";
import type {
  Clock,
  EmailSender,
  ErrorReporter,
  EventBus,
  InvitationRepository,
  MessageRepository,
  OrganizationRepository,
  RealmRepository,
  VlobRepository,
  BlockRepository,
  BlockStore,
  RandomSource,
  UnitOfWork,
  UserRepository,
} from "./ports/index.js";

/** Behaviour switches of the application, from the server settings. */
export interface ApplicationConfig {
  /** Values for organizations created without explicit settings. */
  readonly organizationDefaults: OrganizationDefaults;
  /** `organization_bootstrap` may create an unknown organization (with an empty bootstrap token). */
  readonly spontaneousOrganizationBootstrap: boolean;
  /** Debug mode (the `ping` command is served only then, as in Parsec). */
  readonly debug: boolean;
  /** Address clients use to reach this server, put in invitation emails; null when not configured. */
  readonly backendAddr: BackendAddr | null;
  /** Language of the emails sent by the server. */
  readonly emailLanguage: "en" | "fr";
}

/** Every driven port the use cases need, handed over by the composition root. */
export interface ApplicationDeps {
  readonly uow: UnitOfWork;
  readonly organizations: OrganizationRepository;
  readonly users: UserRepository;
  readonly invitations: InvitationRepository;
  readonly messages: MessageRepository;
  readonly realms: RealmRepository;
  readonly vlobs: VlobRepository;
  readonly blocks: BlockRepository;
  readonly blockStore: BlockStore;
  /** Infrastructure failures turned into protocol statuses are reported here. */
  readonly errors: ErrorReporter;
  readonly email: EmailSender;
  readonly events: EventBus;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: ApplicationConfig;
}
