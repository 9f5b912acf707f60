// Every URL is relative to the page, so the dashboard works behind a reverse
// proxy under any path prefix: 'api/info', never '/api/info'.

export async function fetchJson(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new Error(`No answer from the device (${path})`);
  }
  if (!res.ok) throw new Error(`${path} answered ${res.status} ${res.statusText}`.trim());
  return res.json();
}

// The device's WebSocket, beside the page: ws:// or wss:// as the page is served.
export function wsUrl(path = 'api/ws') {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
