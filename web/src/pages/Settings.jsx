// Device settings: the form the `settings` field set's schema describes.
import { Page, SchemaForm } from '../kit';

export function Settings() {
  return (
    <Page title="Settings" intro="Configure the device. Settings are kept across restarts.">
      <SchemaForm set="settings" />
    </Page>
  );
}
