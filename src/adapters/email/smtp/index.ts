export { classifySmtpFailure, DEFAULT_SMTP_TIMEOUTS, SmtpEmailSender } from "./smtp-sender.js";
export type { SmtpEmailConfig, SmtpSecurity, SmtpTimeouts } from "./smtp-sender.js";
