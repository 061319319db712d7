// Plain-language renderings of times for the UI; everything else is rendered as the core says.

/** "in 29 min", "in 3 h", "2 days ago", "just now": how far `iso` is from `now`. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const minutes = Math.round((new Date(iso).getTime() - now.getTime()) / 60000);
  if (Number.isNaN(minutes)) return 'unknown';
  const size = Math.abs(minutes);
  if (size < 1) return 'just now';
  const amount =
    size < 90 ? `${size} min` : size < 36 * 60 ? `${Math.round(size / 60)} h` : `${Math.round(size / 1440)} days`;
  return minutes > 0 ? `in ${amount}` : `${amount} ago`;
}
