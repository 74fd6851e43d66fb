export { MOCKED_EMAIL_FOLDER_PREFIX, MockedEmailSender } from "./mocked-sender.js";
export type { MockedEmailListener } from "./mocked-sender.js";
