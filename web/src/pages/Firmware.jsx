// Firmware: the running version now, over-the-air update later.
import { Page, Placeholder } from '../Page.jsx';
import { useStore } from '../store.js';

export function Firmware() {
  const version = useStore((s) => s.info?.version);
  return (
    <Page title="Firmware" intro={version ? `Running version ${version}.` : 'The software the device runs.'}>
      <Placeholder>Firmware update (OTA) will appear here.</Placeholder>
    </Page>
  );
}
