// The device at a glance, live: the device set (uptime ticking between pushes),
// sensor charts, LED switches and, on the built-in TCP/IP stack, its counters. Built only from kit.
import { Card, LiveChart, Page, Stat, Toggle, formatBytes, formatUptime, useConnection, useNow, useSchema, useSet, useSetTime } from '../kit';

function Device() {
  const device = useSet('device');
  const at = useSetTime('device');
  const now = useNow();
  const live = useConnection() === 'online';  // offline, the last known uptime stays
  const uptime = device && device.uptime + (live ? Math.max(0, now - at) / 1000 : 0);
  // Two a row on a phone; from 640 px as many 11rem columns as fit: one row on a wide screen
  return (
    <dl class="grid grid-cols-2 gap-3 sm:grid-cols-[repeat(auto-fit,minmax(11rem,1fr))] sm:gap-4" data-testid="overview">
      <Stat label="Device name" value={device?.name} />
      <Stat label="Firmware version" value={device?.version} />
      <Stat label="Uptime" value={device && formatUptime(uptime)} data-testid="uptime" />
      <Stat label="Connections" value={device?.connections} />
      <Stat label="Free memory" value={device && formatBytes(device.free_memory)} />
      <Stat label="Peak memory" value={device && formatBytes(device.memory_peak)} data-testid="memory-peak" />
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

// Each switch is bound to its field: it applies at once, read-only for a user who may not write it
function Leds() {
  const schema = useSchema('leds');
  return (
    <Card title="LEDs" data-testid="leds">
      <div class="flex flex-wrap gap-x-8 gap-y-4">
        {schema?.fields.map((f) => <Toggle key={f.name} set="leds" field={f.name} />)}
      </div>
    </Card>
  );
}

// The `net` set of a device on the built-in stack; a device on OS sockets has none and
// the card is not shown
const DROPS = ['drop_csum', 'drop_malformed', 'drop_frag', 'drop_no_port', 'drop_no_mem', 'drop_other'];
function Network() {
  const net = useSet('net');
  if (!net) return null;
  const dropped = DROPS.reduce((sum, k) => sum + Number(net[k] || 0), 0);
  return (
    <Card title="Network" data-testid="net">
      <dl class="grid grid-cols-2 gap-3 sm:grid-cols-[repeat(auto-fit,minmax(9rem,1fr))]">
        <Stat label="Frames in" value={net.rx_frames} />
        <Stat label="Frames out" value={net.tx_frames} />
        <Stat label="Dropped" value={dropped} />
        <Stat label="TCP retransmits" value={net.tcp_retransmits} />
        <Stat label="TCP resets" value={net.tcp_resets} />
        <Stat label="ARP timeouts" value={net.arp_timeouts} />
      </dl>
    </Card>
  );
}

export function Overview() {
  return (
    <Page title="Overview" intro="The device at a glance, live.">
      <Device />
      <Sensors />
      <Leds />
      <Network />
    </Page>
  );
}
