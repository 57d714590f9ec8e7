// Masking of RPC URLs: credentials, API keys in paths (Alchemy /v2/KEY, Infura /v3/KEY,
// QuickNode tokens) and every query value, keeping scheme, host and port. One rule for logs,
// errors and reports (bot/keeper/log.ts, bot/chain/provider.ts, bot/fork/session.ts).

export const MASK = "***";

/** Masks credentials and API keys in one URL, keeping scheme, host and port. */
export function redactUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return text;
  }
  const auth = u.username || u.password ? `${MASK}@` : "";
  const segments = u.pathname.split("/");
  const path_ = segments
    .map((seg, i) => {
      if (seg.length === 0) return seg;
      const afterVersion = i > 0 && /^v\d+$/i.test(segments[i - 1] ?? "");
      const tokenLike = seg.length >= 16 || (seg.length >= 8 && /\d/.test(seg) && /[a-z]/i.test(seg));
      return afterVersion || tokenLike ? MASK : seg;
    })
    .join("/");
  const query = u.search ? `?${[...u.searchParams.keys()].map((k) => `${k}=${MASK}`).join("&")}` : "";
  return `${u.protocol}//${auth}${u.host}${path_}${query}${u.hash ? "#" + MASK : ""}`;
}


/** redactUrl for a value that should be a URL: "<invalid url>" when it is not one. */
export function maskRpcUrl(url: string): string {
  try {
    new URL(url);
  } catch {
    return "<invalid url>";
  }
  return redactUrl(url);
}
