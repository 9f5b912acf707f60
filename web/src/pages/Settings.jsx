// Device settings: a placeholder until the settings field set exists.
import { Page, Placeholder } from '../Page.jsx';

export function Settings() {
  return (
    <Page title="Settings" intro="Configure the device.">
      <Placeholder>Device settings will appear here.</Placeholder>
    </Page>
  );
}
