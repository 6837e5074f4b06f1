export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Every memory and size figure the bench prints is in decimal units: MB = 10^6 bytes, as the targets are. */
export const MB = 1e6;
export const KB = 1e3;

/** Node's `resourceUsage().maxRSS` is Linux's ru_maxrss, in KiB: this is its value in bytes. */
export const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;
