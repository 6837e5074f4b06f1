/** Plain-text transport (SMTP without TLS, http) is acceptable to this machine only. */
export const isLoopbackHost = (host: string): boolean => /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i.test(host);
