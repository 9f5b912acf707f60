// The device at a glance, live: the device set (uptime ticking between pushes),
// sensor charts and LED switches. Built only from kit.
import { useState } from 'preact/hooks';
import { Card, LiveChart, Page, Stat, Toggle, ErrorText, canWrite, formatBytes, formatUptime,
  useAuth, useConnection, useNow, useSchema, useSet, useSetTime, writeSet } from '../kit';

function Device() {
  const device = useSet('device');
  const at = useSetTime('device');
  const now = useNow();
  const live = useConnection() === 'online';  // offline, the last known uptime stays
  const uptime = device && device.uptime + (live ? Math.max(0, now - at) / 1000 : 0);
  return (
    <dl class="grid grid-cols-2 gap-3 sm:gap-4 lg:grid-cols-3" data-testid="overview">
      <Stat label="Device name" value={device?.name} />
      <Stat label="Firmware version" value={device?.version} />
      <Stat label="Uptime" value={device && formatUptime(uptime)} data-testid="uptime" />
      <Stat label="Connections" value={device?.connections} />
      <Stat label="Free memory" value={device && formatBytes(device.free_memory)} />
    </dl>
  );
}

function Sensors() {
  const unit = useSet('settings')?.unit;
  const f = unit === 'fahrenheit';
  return (
    <Card title="Sensors" data-testid="sensors">
      <div class="grid gap-6 md:grid-cols-2">
        <LiveChart set="sensors" field="temperature" label="Temperature" unit={f ? '°F' : '°C'} convert={f ? (c) => c * 1.8 + 32 : undefined} />
        <LiveChart set="sensors" field="humidity" label="Humidity" unit="%" color="#0ea5e9" />
      </div>
    </Card>
  );
}

function Leds() {
  const leds = useSet('leds');
  const schema = useSchema('leds');
  const auth = useAuth();
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState('');
  const fields = schema?.fields || Object.keys(leds || {}).map((name) => ({ name }));
  async function change(name, on) {
    setBusy(name);
    setError('');
    try {
      await writeSet('leds', { [name]: on });
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(null);
    }
  }
  return (
    <Card title="LEDs" data-testid="leds">
      <ul class="flex flex-wrap gap-x-8 gap-y-4">
        {fields.map((f) => (
          <li key={f.name} class="flex items-center gap-3">
            <Toggle label={f.title || f.name} checked={!!leds?.[f.name]} busy={busy === f.name} data-field={f.name}
              disabled={!leds || !canWrite(auth, schema, f.name)} onChange={(on) => change(f.name, on)} />
            <span class="text-sm font-medium">{f.title || f.name}</span>
          </li>
        ))}
      </ul>
      <div class="mt-3"><ErrorText>{error}</ErrorText></div>
    </Card>
  );
}

export function Overview() {
  return (
    <Page title="Overview" intro="The device at a glance, live.">
      <Device />
      <Sensors />
      <Leds />
    </Page>
  );
}
