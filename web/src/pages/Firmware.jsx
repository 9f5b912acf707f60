// Firmware: the running version now, over-the-air update later.
import { Page, useSet } from '../kit';

export function Firmware() {
  const version = useSet('device')?.version;
  return (
    <Page title="Firmware" intro={version ? `Running version ${version}.` : 'The software the device runs.'}>
      <div class="rounded-xl border-2 border-dashed border-slate-300 px-6 py-12 text-center text-slate-500 dark:border-slate-700 dark:text-slate-400">
        Firmware update (OTA) will appear here.
      </div>
    </Page>
  );
}
